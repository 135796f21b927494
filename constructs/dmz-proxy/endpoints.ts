/**
 * The public integration endpoints a Creatio farm may have to answer from the internet, on .NET paths (no `/0`;
 * the Framework form the calling service may still use is rewritten), each with the methods, body size and rate
 * it needs. Sources: `../shared/reference/creatio-net.md` B and D; paths and methods marked there as UNCONFIRMED
 * stay so here. They go to the internal nodes: the portal nodes deny them (SspServiceList `^…` entries).
 */
import { NginxEndpoint } from "./render-nginx-conf";

export type EndpointGroup = "bulkEmail" | "webForms" | "chats" | "scim";

export const INTEGRATION_ENDPOINTS: Readonly<Record<EndpointGroup, readonly NginxEndpoint[]>> = {
  // Creatio's cloud email service posts responses (bounces, opens) here; support reads the state.
  bulkEmail: [
    {
      name: "bulk_email_webhooks",
      pathPattern: "^/(?:0/)?ServiceModel/CESWebHooksService\\.svc/HandleWebHooks$",
      stripLeadingZero: true,
      methods: ["POST"],
      bodyMb: 10,
      requestsPerMinute: 1200,
    },
    {
      name: "bulk_email_state",
      pathPattern: "^/(?:0/)?ServiceModel/CESTroubleshootingService\\.svc/emailstate$",
      stripLeadingZero: true,
      methods: ["GET", "POST"],
      bodyMb: 1,
      requestsPerMinute: 60,
    },
  ],
  // Landing pages: visitors' browsers post the form.
  webForms: [
    {
      name: "web_forms",
      pathPattern: "^/(?:0/)?ServiceModel/GeneratedObjectWebFormService\\.svc/SaveWebFormObjectData$",
      stripLeadingZero: true,
      methods: ["POST"],
      bodyMb: 1,
      requestsPerMinute: 30,
    },
  ],
  // Chat channels: the messaging providers call back (GET for a webhook verification, POST for messages).
  chats: [
    {
      name: "chats",
      pathPattern: "^/(?:0/)?ServiceModel/(?:Facebook|WhatsApp|Telegram)?OmnichannelMessagingService\\.svc/",
      stripLeadingZero: true,
      methods: ["GET", "POST"],
      bodyMb: 10,
      requestsPerMinute: 1200,
    },
  ],
  // SCIM 2.0 from the identity provider: users and groups, with PUT, PATCH and DELETE, `:` in schema ids.
  scim: [
    {
      name: "scim",
      pathPattern: "^/(?:0/)?rest/scim/v2/",
      stripLeadingZero: true,
      methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      bodyMb: 1,
      requestsPerMinute: 600,
    },
  ],
};

/** The groups as an environment file switches them on, with what each is for. */
export const ENDPOINT_GROUPS: ReadonlyArray<{ readonly key: EndpointGroup; readonly description: string }> = [
  { key: "bulkEmail", description: "Bulk email: the cloud email service's response webhooks and troubleshooting state (the /0/ form it calls is accepted)." },
  { key: "webForms", description: "Landing-page web forms posted by visitors' browsers." },
  { key: "chats", description: "Chat channel webhooks (Facebook, WhatsApp, Telegram)." },
  { key: "scim", description: "SCIM 2.0 provisioning from the identity provider (/rest/scim/v2/…; also needs the token endpoint, issue 12)." },
];
