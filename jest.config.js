/** Unit tier: fast, no daemons. The live and Docker tiers have their own configs (jest.live.config.js, jest.docker.config.js). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/__tests__/live/", "/__tests__/docker/"],
  setupFilesAfterEnv: ["<rootDir>/__tests__/support/setup-cdktf.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
  // Most tests wait on the real programs they start: two workers keep both cores busy (Jest's default is one here).
  maxWorkers: 2,
};
