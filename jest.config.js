/** Unit tier: fast, no daemons. The live tier has its own config (jest.live.config.js). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/__tests__/live/"],
  setupFilesAfterEnv: ["<rootDir>/__tests__/support/setup-cdktf.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
};
