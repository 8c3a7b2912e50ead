/**
 * The hub link over TLS (`HUB_TLS_CA`, `HUB_TLS_SERVER_NAME`), with a
 * self-signed certificate made by openssl (skipped, saying so, without it).
 */
import assert from "node:assert/strict";
import { startTestHub } from "../../hub/hub_fixture.ts";
import { opensslMissing, selfSignedCertificate } from "../../fixtures/tls.ts";
import { tempDir } from "../../fixtures/wait.ts";
import { startLink } from "./link_fixture.ts";

const noOpenssl = opensslMissing();
if (noOpenssl) console.warn(`Skipping the hub link TLS test: ${noOpenssl}`);

Deno.test({
  name:
    `a peer given the hub's CA links over TLS to a hub listed by IP address, verifying the name it is given; without the CA it cannot${
      noOpenssl ? ` (skipped: ${noOpenssl})` : ""
    }`,
  ignore: noOpenssl !== undefined,
  async fn() {
    await using dir = await tempDir("hub-link-tls-");
    const { cert, key } = await selfSignedCertificate(dir.path);
    const ca = await Deno.readFile(cert);
    await using hub = await startTestHub({
      networkToken: "net",
      tls: { cert: ca, key: await Deno.readFile(key) },
    });
    {
      await using peer = startLink([hub.address], {
        token: "net",
        tls: { ca, serverName: "localhost" },
      });
      await peer.until(
        "connected and synced over TLS",
        (s) => s.state === "Connected" && s.replica.checkpoint !== null,
      );
      assert.equal(peer.status().replica.lastResult?.digest, "equal");
    }
    {
      await using plain = startLink([hub.address], { token: "net" });
      await plain.until("isolated: the hub speaks only TLS", (s) => s.state === "Isolated");
    }
    await using wrongName = startLink([hub.address], {
      token: "net",
      tls: { ca, serverName: "not-the-hub.example.org" },
    });
    await wrongName.until(
      "isolated: the certificate does not name it",
      (s) => s.state === "Isolated",
    );
  },
});
