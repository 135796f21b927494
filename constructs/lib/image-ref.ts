/**
 * Why an image reference is not pinned, or `undefined` when it is.
 *
 * A reference is pinned when it names a tag other than `latest`, or a digest. The registry part may carry a
 * port (`registry.example.com:5000/creatio:8.3.1`), so the tag is looked for after the last `/` only.
 */
/** `imagePinProblem` as a JSON Schema pattern (for editors): a tag other than latest in the last segment, or a digest. */
export const PINNED_IMAGE_PATTERN =
  "^(?=[A-Za-z0-9][A-Za-z0-9._/:@-]*$)(?:.*@sha256:[a-f0-9]{64}|(?:[^/]*/)*[^/:]*:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$";

export function imagePinProblem(ref: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(ref) || /\s/.test(ref)) {
    return "expected an image reference such as registry.example.com/creatio-net8:8.3.1";
  }
  if (/@sha256:[a-f0-9]{64}$/.test(ref)) return undefined;
  const lastSegment = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  if (colon < 0) return "expected an image pinned to a tag or digest (name:tag), not an implicit latest";
  const tag = lastSegment.slice(colon + 1);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return `expected a valid image tag after ":", got tag "${tag}"`;
  if (tag === "latest") return "expected an image pinned to a tag or digest, not :latest (a pull could change the farm silently)";
  return undefined;
}
