/** Live tier: real daemons (PostgreSQL, haproxy) on 127.0.0.1 only. Run with `npm run test:live`. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__/live"],
  testMatch: ["**/*.live.test.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
  testTimeout: 60000,
  maxWorkers: 1,
};
