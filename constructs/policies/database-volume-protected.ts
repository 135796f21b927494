import { PostgresDatabase } from "../database/postgres-database";
import { PolicyRule } from "./policy-rule";

export const databaseVolumeProtected: PolicyRule = {
  id: "FARM-DATABASE-VOLUME-PROTECTED",
  info: "The database volume does not carry lifecycle prevent_destroy.",
  explanation: "A plan that replaces or destroys the volume deletes every Creatio record; Terraform must refuse such a plan.",
  check: (node) => {
    if (!(node instanceof PostgresDatabase)) return "not-applicable";
    return node.volume.lifecycle?.preventDestroy === true ? "compliant" : "non-compliant";
  },
};
