import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { providerMirror } from "../scripts/terraform-mirror";

describe("the provider mirror the tests and scripts find", () => {
  it("is never the registry.terraform.io that `terraform providers lock` unpacks in the temp dir while it runs", () => {
    const decoy = fs.mkdtempSync(path.join(os.tmpdir(), "terraform-providers-lock"));
    fs.mkdirSync(path.join(decoy, "registry.terraform.io"));
    const configured = process.env.TF_PROVIDER_MIRROR;
    delete process.env.TF_PROVIDER_MIRROR;
    try {
      expect(providerMirror()).not.toBe(decoy);
    } finally {
      if (configured !== undefined) process.env.TF_PROVIDER_MIRROR = configured;
      fs.rmSync(decoy, { recursive: true, force: true });
    }
  });
});
