// @ts-check
/**
 * Stand-in for `dotnet Terrasoft.WebHost.dll configureWebFarmMode`, doing what the strings of Creatio's
 * Terrasoft.WebHost.dll say the real command does, in the same order and with the same log lines:
 * TenantId in appSettings, the Application data store and the Workspace/Application cache stores on Redis, a new
 * DataProtection key in the keys directory, and `$.DataProtection.CustomizeDataProtection` in appsettings.json.
 * The key itself is never printed.
 */
"use strict";
const fs = require("fs");
const path = require("path");
const { readAppsettings } = require("./config-files");
const { writeNewKey } = require("./key-ring");

const REDIS_STORES = [
  ["storeDataAdapters", "Application", "Terrasoft.Redis.ApplicationDataRedisStore, Terrasoft.Redis"],
  ["storeCacheAdapters", "Workspace", "Terrasoft.Redis.GeneralCacheRedisStore, Terrasoft.Redis"],
  ["storeCacheAdapters", "Application", "Terrasoft.Redis.GeneralCacheRedisStore, Terrasoft.Redis"],
];

const log = (line) => process.stdout.write(`${line}\n`);

/** @param {string} xml @param {string} tenantId */
function setTenantId(xml, tenantId) {
  const re = /(<add\s+key="TenantId"\s+value=")[^"]*(")/i;
  if (re.test(xml)) return xml.replace(re, `$1${tenantId}$2`);
  return xml.replace(/<appSettings>/, `<appSettings>\n    <add key="TenantId" value="${tenantId}" />`);
}

/** @param {string} xml */
function setStores(xml) {
  for (const [section, level, type] of REDIS_STORES) {
    xml = xml.replace(new RegExp(`(<${section}>[\\s\\S]*?</${section}>)`), (block) =>
      block.replace(new RegExp(`(<storeAdapter\\s+levelName="${level}"\\s+type=")[^"]*(")`), `$1${type}$2`),
    );
  }
  return xml;
}

/** @param {string} appDir */
function configureWebFarm(appDir) {
  log("Preparing application configuration for web farm operating mode.");
  const configFile = path.join(appDir, "Terrasoft.WebHost.dll.config");
  log(`Loaded config file ${configFile}`);
  let xml = fs.readFileSync(configFile, "utf8");
  const tenantId = "1";
  log(`Setting up TenantId to '${tenantId}'`);
  xml = setTenantId(xml, tenantId);
  log("Setting up stores.");
  xml = setStores(xml);
  fs.writeFileSync(configFile, xml);
  log("Config file updated.");

  const appsettingsFile = path.join(appDir, "appsettings.json");
  const appsettings = readAppsettings(appDir);
  log("Generating new data protection keys.");
  writeNewKey(path.resolve(appDir, String(appsettings.DataProtection?.KeysDirectory || "DataProtectionKeys")));
  appsettings.DataProtection = { ...appsettings.DataProtection, CustomizeDataProtection: true };
  fs.writeFileSync(appsettingsFile, `\uFEFF${JSON.stringify(appsettings, null, 2)}\n`);
  log("Application configured successfully.");
}

module.exports = { configureWebFarm };
