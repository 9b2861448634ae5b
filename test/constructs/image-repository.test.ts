import { Testing } from "cdktf";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { resourceNames } from "../../config/names";
import { ImageRepository, type ImageRepositoryProps } from "../../constructs/image-repository";

const synth = (props: ImageRepositoryProps = {}) => Testing.synthScope((scope) => new ImageRepository(scope, "images", props));

function lifecycleRules(props: ImageRepositoryProps = {}) {
  const json = JSON.parse(synth(props));
  const [policy] = Object.values<{ policy: string }>(json.resource[EcrLifecyclePolicy.tfResourceType]);
  return JSON.parse(policy.policy).rules as { rulePriority: number; selection: Record<string, unknown>; action: { type: string } }[];
}

describe("ImageRepository", () => {
  it("names the repository mcp-server, with immutable tags, scan on push and KMS encryption", () => {
    expect(synth()).toHaveResourceWithProperties(EcrRepository, {
      name: "mcp-server",
      image_tag_mutability: "IMMUTABLE",
      image_scanning_configuration: { scan_on_push: true },
      encryption_configuration: [{ encryption_type: "KMS" }],
      force_delete: false,
    });
  });

  it("keeps every image a release tagged, then expires untagged images, then all but the newest", () => {
    expect(lifecycleRules({ keepImages: 12, untaggedImageDays: 3 })).toEqual([
      // A rule that selects an image keeps it from every rule of lower priority, so released images are never expired.
      expect.objectContaining({ rulePriority: 1, selection: { tagStatus: "tagged", tagPrefixList: ["release-"], countType: "imageCountMoreThan", countNumber: 10000 } }),
      expect.objectContaining({ rulePriority: 2, selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 3 }, action: { type: "expire" } }),
      expect.objectContaining({ rulePriority: 3, selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 12 }, action: { type: "expire" } }),
    ]);
    expect(resourceNames.releasedImageTag(`sha256:${"ab".repeat(32)}`)).toBe("release-abababababab");
  });

  it("keeps 50 images and untagged ones for 7 days by default", () => {
    expect(lifecycleRules().map((r) => r.selection.countNumber)).toEqual([10000, 7, 50]);
  });

  it("refuses to keep no images", () => {
    expect(() => synth({ keepImages: 0 })).toThrow(/keepImages must be a whole number of at least 1/);
  });
});
