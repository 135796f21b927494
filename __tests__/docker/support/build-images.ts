// Builds (or finds cached) the Docker tier's images: node __tests__/support/run-ts.js __tests__/docker/support/build-images.ts
import { engine, requireEngine } from "./engine";
import { ensureTestImages } from "./images";

(async () => {
  const docker = engine();
  await requireEngine(docker);
  const report = await ensureTestImages(docker, (l) => console.log(l));
  console.log(JSON.stringify(report));
})().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
