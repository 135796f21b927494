/**
 * A bcrypt hash in the form Terraform's random_password.bcrypt_hash produces ($2a$, cost 10) of
 * STATS_TEST_PASSWORD, for tests where a rendered haproxy.cfg must be complete (no placeholder) to be checked.
 * Made with: python3 -c 'import crypt; print(crypt.crypt("stats-test-password", "$2a$10$abcdefghijklmnopqrstuv"))'
 */
export const STATS_TEST_PASSWORD = "stats-test-password";
export const STATS_TEST_HASH = "$2a$10$abcdefghijklmnopqrstuuEl/c5xJ0gTlVEnpnaHfqdvV3I6OvVCW";
