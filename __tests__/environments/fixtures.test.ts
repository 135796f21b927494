/**
 * The product's own environments (__tests__/fixtures/environments/, copies of the examples kept apart from the
 * user's config/): the checks every environment gets, and what only the product's fixtures can promise.
 */
import * as path from "path";
import { checkedElsewhereExists, describeEnvironments, environmentsOf } from "../support/environment-checks";

const FIXTURES = path.join(__dirname, "../fixtures/environments");

test("the fixtures are dev and prod", () => {
  expect(environmentsOf(FIXTURES).map((e) => e.name)).toEqual(["dev", "prod"]);
});

test("each format checked elsewhere names a test that exists", () => {
  checkedElsewhereExists();
});

describeEnvironments(FIXTURES);
