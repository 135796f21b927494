/**
 * Docker tier: the synthesized stack applied to the real Docker Engine (`npm run test:docker`). Global setup builds
 * the test images and deploys the fixture farm once; test files run one at a time against it; global teardown
 * removes everything the tier created.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__/docker"],
  testMatch: ["**/*.docker.test.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
  globalSetup: "<rootDir>/__tests__/docker/support/global-setup.ts",
  globalTeardown: "<rootDir>/__tests__/docker/support/global-teardown.ts",
  testTimeout: 180000,
  maxWorkers: 1,
};
