import { Construct } from "constructs";
import { Image } from "@cdktf/provider-docker/lib/image";

/**
 * The image of a component, pulled once and shared by all its containers (construct id `image`).
 * keep_locally: destroying the farm must not delete images that may be hard to pull again. Containers refer
 * to `image_id`, never to `repo_digest`, which makes the provider recreate containers on every apply.
 */
export function farmImage(scope: Construct, ref: string): Image {
  return new Image(scope, "image", { name: ref, keepLocally: true });
}
