import { RELEASED_IMAGE_TAG_PREFIX } from "../config/names";
import { Construct } from "constructs";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";

export interface ImageRepositoryProps {
  /** Repository name; release manifests name images `<registry>/<name>@sha256:...`. @default "mcp-server" */
  readonly name?: string;
  /**
   * Images kept, newest first; older ones expire. Keep more than the releases a rollback may reach
   * back to: an expired image can no longer start tasks. @default 50
   */
  readonly keepImages?: number;
  /** Days an untagged image (a layer of a failed or superseded push) is kept. @default 7 */
  readonly untaggedImageDays?: number;
  /** Let `terraform destroy` delete a repository that still holds images. @default false */
  readonly forceDelete?: boolean;
}

/**
 * An ECR repository for the server image: tags are immutable (a tag names one build forever, so a
 * release by tag is as safe as one by digest), every push is scanned, images are encrypted with
 * KMS, and a lifecycle policy bounds how many are kept.
 */
export class ImageRepository extends Construct {
  public readonly repository: EcrRepository;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps = {}) {
    super(scope, id);
    const keepImages = props.keepImages ?? 50;
    const untaggedImageDays = props.untaggedImageDays ?? 7;
    if (!Number.isInteger(keepImages) || keepImages < 1) throw new Error(`ImageRepository ${id}: keepImages must be a whole number of at least 1, got ${keepImages}`);
    if (!Number.isInteger(untaggedImageDays) || untaggedImageDays < 1) throw new Error(`ImageRepository ${id}: untaggedImageDays must be a whole number of days, at least 1, got ${untaggedImageDays}`);

    this.repository = new EcrRepository(this, "repository", {
      name: props.name ?? "mcp-server",
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: "KMS" }],
      forceDelete: props.forceDelete ?? false,
    });
    new EcrLifecyclePolicy(this, "lifecycle", {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            // An image a release deployed is a rollback target as long as a manifest names it: the
            // release tags it (names.ts releasedImageTag), and a rule that selects an image keeps it
            // from every rule of lower priority. 10 000 is ECR's most images per repository.
            rulePriority: 1,
            description: `Keep every image a release deployed (tagged ${RELEASED_IMAGE_TAG_PREFIX}*)`,
            selection: { tagStatus: "tagged", tagPrefixList: [RELEASED_IMAGE_TAG_PREFIX], countType: "imageCountMoreThan", countNumber: 10000 },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: `Expire untagged images after ${untaggedImageDays} days`,
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedImageDays },
            action: { type: "expire" },
          },
          {
            // ECR requires the "any" rule to have the lowest precedence (highest priority number).
            rulePriority: 3,
            description: `Keep the newest ${keepImages} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepImages },
            action: { type: "expire" },
          },
        ],
      }),
    });
  }
}
