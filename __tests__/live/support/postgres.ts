/**
 * Live-tier helper: a REAL throwaway PostgreSQL cluster in a temp dir, listening on 127.0.0.1 at
 * a free port picked at run time (plus a unix socket in the temp dir).
 *
 * Tests run as root and PostgreSQL refuses root, so initdb/postgres run as the `postgres` OS
 * user through `runuser -u postgres --`. The server is a child process; stop() shuts it down by
 * PID (SIGINT = fast shutdown, bounded wait, SIGKILL fallback) and removes the temp dir.
 */
import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { alive, freePort, sleep, waitForExit } from "./processes";

const INSTALL_HINT = "install it with `apt-get install postgresql` (needs initdb, postgres, pg_isready, psql) and util-linux `runuser`";

export interface PgServer {
  /** Directory holding initdb/postgres/psql/pg_isready of the version in use. */
  readonly binDir: string;
  /** Unix socket directory (use as PGHOST for superuser access over the socket, trust auth). */
  readonly socketDir: string;
  readonly port: number;
  /** Temp dir that holds everything (data dir, socket, files tests write); removed by stop(). */
  readonly workDir: string;
  /** PID of the postmaster itself (read from postmaster.pid). */
  readonly postmasterPid: number;
  /** psql as the superuser `postgres` over the unix socket. */
  psqlAdmin(dbname: string, sql: string): SpawnSyncReturns<string>;
  /** psql as `user` over TCP 127.0.0.1 with a password (exercises pg_hba scram-sha-256). */
  psqlTcp(user: string, password: string, dbname: string, sql: string): SpawnSyncReturns<string>;
  stop(): Promise<void>;
}

/** Newest /usr/lib/postgresql/<major>/bin that has the tools we need; throws (never skips). */
export function findPostgresBinDir(root = "/usr/lib/postgresql"): string {
  const needed = ["initdb", "postgres", "pg_isready", "psql"];
  const majors = fs.existsSync(root)
    ? fs.readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a))
    : [];
  for (const major of majors) {
    const bin = path.join(root, major, "bin");
    if (needed.every((tool) => fs.existsSync(path.join(bin, tool)))) return bin;
  }
  throw new Error(`PostgreSQL server binaries not found under ${root}: ${INSTALL_HINT}`);
}

export function findRunuser(): string {
  for (const candidate of ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`runuser not found: ${INSTALL_HINT}`);
}


function osUserIds(user: string): { uid: number; gid: number } {
  const uid = spawnSync("id", ["-u", user], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", user], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(`OS user ${user} not found: ${INSTALL_HINT}`);
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}




export interface StartOptions {
  /** Extra initdb arguments (e.g. encoding/locale). */
  readonly initdbArgs?: readonly string[];
  /** Bounded wait for readiness. */
  readonly readyTimeoutMs?: number;
}

export async function startPostgres(opts: StartOptions = {}): Promise<PgServer> {
  const runuser = findRunuser();
  const binDir = findPostgresBinDir();
  const { uid, gid } = osUserIds("postgres");

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-pg-"));
  const dataDir = path.join(workDir, "data");
  const socketDir = workDir;
  fs.chownSync(workDir, uid, gid);
  fs.chmodSync(workDir, 0o755);

  let child: ChildProcess | undefined;
  let postmasterPid = 0;
  const output: string[] = [];
  const emergencyKill = () => {
    if (postmasterPid && alive(postmasterPid)) process.kill(postmasterPid, "SIGKILL");
    if (child?.pid && alive(child.pid)) process.kill(child.pid, "SIGKILL");
  };

  const readPostmasterPid = (): number => {
    try {
      return Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]) || 0;
    } catch {
      return 0;
    }
  };

  const stop = async (): Promise<void> => {
    process.removeListener("exit", emergencyKill);
    try {
      if (!postmasterPid) postmasterPid = readPostmasterPid();
      if (child && child.pid) {
        // Signal the postmaster itself (runuser is only its parent); SIGINT = fast shutdown.
        const target = postmasterPid && alive(postmasterPid) ? postmasterPid : child.pid;
        if (alive(target)) process.kill(target, "SIGINT");
        if (!(await waitForExit(child, 10_000))) {
          emergencyKill();
          await waitForExit(child, 5_000);
        }
      }
      // The postmaster must be gone too (it may outlive runuser in pathological cases).
      for (let i = 0; postmasterPid && alive(postmasterPid) && i < 50; i++) await sleep(100);
      if (postmasterPid && alive(postmasterPid)) process.kill(postmasterPid, "SIGKILL");
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  };

  try {
    const init = spawnSync(
      runuser,
      [
        "-u", "postgres", "--",
        path.join(binDir, "initdb"),
        "-D", dataDir,
        "-U", "postgres",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--no-sync",
        ...(opts.initdbArgs ?? []),
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (init.status !== 0) {
      throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.error ?? ""}\n${init.stdout}\n${init.stderr}`);
    }

    const port = await freePort();
    child = spawn(
      runuser,
      [
        "-u", "postgres", "--",
        path.join(binDir, "postgres"),
        "-D", dataDir,
        "-k", socketDir,
        "-p", String(port),
        "-c", "listen_addresses=127.0.0.1",
        "-c", "fsync=off",
        "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    process.on("exit", emergencyKill);
    child.stdout?.on("data", (d) => output.push(String(d)));
    child.stderr?.on("data", (d) => output.push(String(d)));

    const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`postgres exited early (${child.exitCode ?? child.signalCode}):\n${output.join("")}`);
      }
      const ready = spawnSync(path.join(binDir, "pg_isready"), ["-q", "-h", socketDir, "-p", String(port)], {
        timeout: 5_000,
      });
      if (ready.status === 0) break;
      if (Date.now() > deadline) throw new Error(`postgres not ready within timeout:\n${output.join("")}`);
      await sleep(100);
    }
    postmasterPid = readPostmasterPid();
    if (!postmasterPid) throw new Error("postgres is ready but postmaster.pid has no PID");

    const run = (args: string[], env: NodeJS.ProcessEnv) =>
      spawnSync(path.join(binDir, "psql"), ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", ...args], {
        encoding: "utf8",
        timeout: 15_000,
        env: { PATH: process.env.PATH, ...env },
      });

    return {
      binDir,
      socketDir,
      port,
      workDir,
      postmasterPid,
      stop,
      psqlAdmin: (dbname, sql) =>
        run(["-h", socketDir, "-p", String(port), "-U", "postgres", "-d", dbname, "-c", sql], {}),
      psqlTcp: (user, password, dbname, sql) =>
        run(["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", dbname, "-w", "-c", sql], {
          PGPASSWORD: password,
        }),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
