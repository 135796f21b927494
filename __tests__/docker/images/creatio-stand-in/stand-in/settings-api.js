// @ts-check
/**
 * Creatio's system settings API, as the stand-in plays it (the Docker tier's nodes, and the live tier's settings
 * server): `POST /DataService/json/SyncReply/QuerySysSettings` and `…/PostSysSettingsValues` on Creatio's tables
 * "SysSettings" ("Id", "Code", "ValueTypeName") and "SysSettingsValue" ("SysSettingsId", "TextValue"), with
 * parameterized SQL only. A signed-in administrator only, with the BPMCSRF header equal to its cookie; SecureText
 * values are stored encrypted (AES-256-GCM under the stand-in's own key), as the platform stores them. The answer to
 * PostSysSettingsValues names each code in "saveResult"; a setting of type "Locked" (the stand-in's own, for a
 * setting the caller may not change) is not saved and answers false there.
 */
"use strict";
const crypto = require("crypto");

const PATHS = { query: "/DataService/json/SyncReply/QuerySysSettings", post: "/DataService/json/SyncReply/PostSysSettingsValues" };
/** The stand-in's "platform" key: what Creatio keeps to itself; the tests only need to see that the secret is not stored as given. */
const KEY = crypto.createHash("sha256").update("creatio-farm stand-in SecureText key").digest();

function encrypt(text) {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", KEY, iv);
  const data = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
  return `enc:v1:${Buffer.concat([iv, cipher.getAuthTag(), data]).toString("base64")}`;
}

/** The clear text of a stored SecureText value (for the tests that check it). */
function decrypt(stored) {
  const raw = Buffer.from(String(stored).replace(/^enc:v1:/, ""), "base64");
  const decipher = crypto.createDecipheriv("aes-256-gcm", KEY, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

/**
 * Handles a settings request; false when the path is not one of them.
 * @param {import("http").IncomingMessage} req
 * @param {(status: number, body: unknown) => void} send
 * @param {{ pool: import("pg").Pool, caller: { ok: boolean, user?: string, reason?: string }, csrfOk: boolean, body: () => Promise<string> }} ctx
 */
async function handleSettings(req, send, ctx) {
  const path = (req.url ?? "").split("?")[0];
  if (path !== PATHS.query && path !== PATHS.post) return false;
  if (req.method !== "POST") return send(405, { success: false }), true;
  if (!ctx.caller.ok) return send(401, { success: false, responseStatus: { ErrorCode: "Unauthorized", Message: ctx.caller.reason } }), true;
  if (!ctx.csrfOk) return send(403, { success: false, responseStatus: { ErrorCode: "Forbidden", Message: "BPMCSRF header does not match the cookie" } }), true;
  if (ctx.caller.user !== "Supervisor") return send(403, { success: false, responseStatus: { ErrorCode: "SecurityException", Message: `${ctx.caller.user} may not change system settings` } }), true;
  let body;
  try {
    body = JSON.parse(await ctx.body());
  } catch {
    return send(400, { success: false, responseStatus: { ErrorCode: "SerializationException", Message: "malformed JSON" } }), true;
  }
  const client = await ctx.pool.connect();
  try {
    if (path === PATHS.query) {
      const codes = Array.isArray(body.sysSettingsNameCollection) ? body.sysSettingsNameCollection.map(String) : [];
      const rows = (await client.query(
        `SELECT s."Code", s."ValueTypeName", v."TextValue" FROM "SysSettings" s LEFT JOIN "SysSettingsValue" v ON v."SysSettingsId" = s."Id" WHERE s."Code" = ANY($1)`,
        [codes],
      )).rows;
      const values = Object.fromEntries(rows.map((r) => [r.Code, { code: r.Code, dataValueTypeName: r.ValueTypeName, value: r.ValueTypeName === "SecureText" ? "" : r.TextValue }]));
      return send(200, { success: true, values, notFoundSettings: codes.filter((c) => !(c in values)) }), true;
    }
    const given = body.sysSettingsValues && typeof body.sysSettingsValues === "object" ? body.sysSettingsValues : {};
    await client.query("BEGIN");
    const saveResult = {};
    for (const [code, value] of Object.entries(given)) {
      const setting = (await client.query(`SELECT "Id", "ValueTypeName" FROM "SysSettings" WHERE "Code" = $1`, [code])).rows[0];
      if (!setting) {
        await client.query("ROLLBACK");
        return send(200, { success: false, responseStatus: { ErrorCode: "ItemNotFoundException", Message: `system setting ${code} not found` } }), true;
      }
      if (setting.ValueTypeName === "Locked") {
        saveResult[code] = false;
        continue;
      }
      saveResult[code] = true;
      const text = setting.ValueTypeName === "SecureText" ? encrypt(String(value)) : String(value);
      const updated = await client.query(`UPDATE "SysSettingsValue" SET "TextValue" = $2 WHERE "SysSettingsId" = $1`, [setting.Id, text]);
      if (updated.rowCount === 0) await client.query(`INSERT INTO "SysSettingsValue" ("SysSettingsId", "TextValue") VALUES ($1, $2)`, [setting.Id, text]);
    }
    await client.query("COMMIT");
    return send(200, { success: true, saveResult }), true;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

module.exports = { handleSettings, decrypt, PATHS };
