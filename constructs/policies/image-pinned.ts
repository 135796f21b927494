import { Token } from "cdktf";
import { Image } from "@cdktf/provider-docker/lib/image";
import { imagePinProblem } from "../lib/image-ref";
import { PolicyRule } from "./policy-rule";

export const imagePinned: PolicyRule = {
  id: "FARM-IMAGE-PINNED",
  info: "The image is not pinned to a tag or digest.",
  explanation: "An unpinned image (no tag, or :latest) can change under a running farm at the next pull, so two nodes may run different Creatio builds.",
  check: (node) => {
    if (!(node instanceof Image)) return "not-applicable";
    const name = node.nameInput;
    if (name === undefined || Token.isUnresolved(name)) return "not-applicable";
    return imagePinProblem(name) ? "non-compliant" : "compliant";
  },
};
