/** `database.restore`: what the bootstrap job gets, read from the synthesized Terraform. */
import { Testing } from "cdktf";
import { CreatioFarmStack } from "../../app/farm-stack";
import { FarmConfig } from "../../schema/schema";
import { config, containers, minimalInput, synthFarmStack } from "../support/farm";

const RESTORE = { backup: "/srv/creatio/8.3.1/db/BPMonline831.backup", typeCasts: "/srv/creatio/8.3.1/db/CreateTypeCastsPostgreSql.sql" };
const withRestore = (restore: object = RESTORE) => config({ ...minimalInput(), database: { image: "postgres:16", restore } as never });

test("GIVEN database.restore THEN the job mounts the two files read-only, carries the hand-over and swap SQL, and its script restores", () => {
  const { tf } = synthFarmStack(withRestore());
  const job = containers(tf)["test-postgres-bootstrap"];
  expect(job.volumes.filter((v: any) => v.host_path)).toEqual([
    { container_path: "/opt/creatio-farm/restore/creatio.backup", host_path: RESTORE.backup, read_only: true },
    { container_path: "/opt/creatio-farm/restore/CreateTypeCastsPostgreSql.sql", host_path: RESTORE.typeCasts, read_only: true },
  ]);
  expect(job.upload.map((u: any) => u.file)).toEqual(
    expect.arrayContaining(["/opt/creatio-farm/restore-hand-over.sql", "/opt/creatio-farm/restore-swap.sql"]),
  );
  const script = job.upload.find((u: any) => u.file === "/opt/creatio-farm/bootstrap.sh").content as string;
  expect(script).toContain("restoring BPMonline831.backup into 'creatio_farm_restore'");
  // only the job: the database container never sees the backup
  expect(containers(tf)["test-postgres"].volumes.some((v: any) => v.host_path)).toBe(false);
});

test("GIVEN no restore THEN the job has no mount of the host and its script restores nothing", () => {
  const { tf } = synthFarmStack();
  const job = containers(tf)["test-postgres-bootstrap"];
  expect(job.volumes.some((v: any) => v.host_path)).toBe(false);
  expect(job.upload.find((u: any) => u.file === "/opt/creatio-farm/bootstrap.sh").content).not.toContain("pg_restore");
});

test.each([
  ["a relative path", { ...RESTORE, backup: "db/BPMonline.backup" }, /restore\.backup: expected an absolute path/],
  ["a path under /proc", { ...RESTORE, typeCasts: "/proc/self/environ" }, /restore\.typeCasts: expected a file outside the kernel's/],
  ["a '..' segment", { ...RESTORE, backup: "/srv/../etc/shadow" }, /restore\.backup: expected an absolute path/],
  ["Docker's socket", { ...RESTORE, backup: "/var/run/docker.sock" }, /restore\.backup: expected a file outside the kernel's/],
])("GIVEN %s, built without the schema THEN the database construct refuses it with its path", (_, restore, message) => {
  const cfg = { ...config(), database: { image: "postgres:16", restore } } as FarmConfig;
  expect(() => new CreatioFarmStack(Testing.app(), "test", cfg)).toThrow(new RegExp(`\\[test/database\\] ${message.source}`));
});
