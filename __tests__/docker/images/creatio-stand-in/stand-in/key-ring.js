// @ts-check
/**
 * A DataProtection key ring that behaves like ASP.NET Core's where the farm depends on it:
 * - with `DataProtection.CustomizeDataProtection: true` keys live in `KeysDirectory` (relative to the application
 *   root), otherwise in the container's own `$HOME/.aspnet/DataProtection-Keys`, so each node has a ring of its own;
 * - keys are `key-<guid>.xml` files in ASP.NET's format (unencrypted master key, as on Linux without a protector);
 * - the ring is read once at start; when it holds no active key, a new one is created and written;
 * - a payload names the key that protected it, and only a ring holding that key and the same ApplicationName
 *   can read it back.
 * Payloads are authenticated, not encrypted: the stand-in needs the binding to the key, not secrecy.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const DAY_MS = 24 * 3600 * 1000;
const DESERIALIZER =
  "Microsoft.AspNetCore.DataProtection.AuthenticatedEncryption.ConfigurationModel.AuthenticatedEncryptorDescriptorDeserializer, Microsoft.AspNetCore.DataProtection, Version=8.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60";

/** @typedef {{ id: string, activation: Date, expiration: Date, master: Buffer }} Key */

/** Where the keys of an application live, as ASP.NET decides it from appsettings.json. */
function keyRingLocation(appDir, appsettings) {
  const dp = (appsettings && appsettings.DataProtection) || {};
  if (dp.CustomizeDataProtection === true) {
    return {
      dir: path.resolve(appDir, String(dp.KeysDirectory || "DataProtectionKeys")),
      applicationName: String(dp.ApplicationName || appDir),
      customized: true,
    };
  }
  return { dir: path.join(process.env.HOME || "/root", ".aspnet", "DataProtection-Keys"), applicationName: appDir, customized: false };
}

/** @param {Date} now */
function newKeyXml(now) {
  const id = crypto.randomUUID();
  const master = crypto.randomBytes(64).toString("base64");
  const iso = (d) => d.toISOString().replace("Z", "0000Z");
  const xml = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<key id="${id}" version="1">`,
    `  <creationDate>${iso(now)}</creationDate>`,
    `  <activationDate>${iso(now)}</activationDate>`,
    `  <expirationDate>${iso(new Date(now.getTime() + 90 * DAY_MS))}</expirationDate>`,
    `  <descriptor deserializerType="${DESERIALIZER}">`,
    "    <descriptor>",
    '      <encryption algorithm="AES_256_CBC" />',
    '      <validation algorithm="HMACSHA256" />',
    '      <masterKey p4:requiresEncryption="true" xmlns:p4="http://schemas.asp.net/2015/03/dataProtection">',
    "        <!-- Warning: the key below is in an unencrypted form. -->",
    `        <value>${master}</value>`,
    "      </masterKey>",
    "    </descriptor>",
    "  </descriptor>",
    "</key>",
    "",
  ].join("\n");
  return { id, xml };
}

/** Writes a new key into `dir` (atomically: a reader never sees half a key) and returns its id. */
function writeNewKey(dir, now = new Date()) {
  fs.mkdirSync(dir, { recursive: true });
  const { id, xml } = newKeyXml(now);
  const tmp = path.join(dir, `.key-${id}.tmp`);
  fs.writeFileSync(tmp, xml, { mode: 0o600 });
  fs.renameSync(tmp, path.join(dir, `key-${id}.xml`));
  return id;
}

/** @param {string} file @returns {Key | undefined} */
function readKey(file) {
  const xml = fs.readFileSync(file, "utf8");
  const id = /<key\b[^>]*\bid="([0-9a-f-]{36})"/i.exec(xml)?.[1];
  const activation = /<activationDate>([^<]+)</.exec(xml)?.[1];
  const expiration = /<expirationDate>([^<]+)</.exec(xml)?.[1];
  const value = /<value>([A-Za-z0-9+/=]+)<\/value>/.exec(xml)?.[1];
  if (!id || !activation || !expiration || !value) return undefined;
  return { id: id.toLowerCase(), activation: new Date(activation), expiration: new Date(expiration), master: Buffer.from(value, "base64") };
}

class KeyRing {
  /** @param {string} dir @param {string} applicationName */
  constructor(dir, applicationName) {
    this.dir = dir;
    this.applicationName = applicationName;
    /** @type {Map<string, Key>} */
    this.keys = new Map();
    /** Keys this ring created itself (the others came from the directory). */
    this.created = 0;
  }

  /** Reads the ring; creates a key when none is active, as ASP.NET does on first use. */
  load(now = new Date()) {
    this.keys.clear();
    const files = fs.existsSync(this.dir) ? fs.readdirSync(this.dir).filter((f) => /^key-.*\.xml$/.test(f)) : [];
    for (const f of files.sort()) {
      const key = readKey(path.join(this.dir, f));
      if (key) this.keys.set(key.id, key);
    }
    if (!this.defaultKey(now)) {
      writeNewKey(this.dir, now);
      this.created++;
      this.load(now);
    }
    return this;
  }

  /** The newest key that is active now. @returns {Key | undefined} */
  defaultKey(now = new Date()) {
    return [...this.keys.values()]
      .filter((k) => k.activation <= now && k.expiration > now)
      .sort((a, b) => b.activation.getTime() - a.activation.getTime())[0];
  }

  /** @param {Key} key */
  subkey(key) {
    return crypto.createHmac("sha256", key.master).update(`creatio-stand-in|${this.applicationName}`).digest();
  }

  /** @param {string} plaintext */
  protect(plaintext) {
    const key = this.defaultKey();
    if (!key) throw new Error("no active key");
    const body = Buffer.from(plaintext, "utf8");
    const id = Buffer.from(key.id.replace(/-/g, ""), "hex");
    const mac = crypto.createHmac("sha256", this.subkey(key)).update(body).digest();
    return Buffer.concat([id, mac, body]).toString("base64url");
  }

  /** @param {string} token @returns {{ ok: true, plaintext: string, keyId: string } | { ok: false, reason: string }} */
  unprotect(token) {
    const raw = Buffer.from(token, "base64url");
    if (raw.length < 48) return { ok: false, reason: "malformed payload" };
    const hex = raw.subarray(0, 16).toString("hex");
    const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const key = this.keys.get(keyId);
    if (!key) return { ok: false, reason: `the key ${keyId} was not found in the key ring` };
    const body = raw.subarray(48);
    const mac = crypto.createHmac("sha256", this.subkey(key)).update(body).digest();
    if (!crypto.timingSafeEqual(mac, raw.subarray(16, 48))) return { ok: false, reason: "the payload was not protected by this application" };
    return { ok: true, plaintext: body.toString("utf8"), keyId };
  }
}

module.exports = { KeyRing, keyRingLocation, writeNewKey };
