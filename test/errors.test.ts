import { ExampleValuesError } from "../config/deployable";
import { OperatorError, reportOperatorError } from "../config/errors";
import { AggregateConfigError, ConfigError } from "../config/load";
import { AwsError, ReleaseError } from "../release/errors";
import { TerraformError } from "../release/terraform";

describe("operator-facing errors", () => {
  it("share one base class, so every entry point reports them the same way", () => {
    const config = new ConfigError("staging.json", ["name: expected a name"]);
    const errors = [config, new AggregateConfigError([config]), new ExampleValuesError("staging", [{ file: "staging.json", problems: ["aws.accountId: an example"] }]), new ReleaseError("unsafe"), new AwsError("ecs:DescribeServices", new Error("denied")), new TerraformError("plan failed")];
    for (const error of errors) expect({ name: error.constructor.name, operator: error instanceof OperatorError }).toEqual({ name: error.constructor.name, operator: true });
  });

  it("print one line for an operator error and rethrow anything else, stack and all", () => {
    const lines: string[] = [];
    expect(reportOperatorError(new ReleaseError("the alarm is in ALARM"), (l) => lines.push(l))).toBe(1);
    expect(lines).toEqual(["error: the alarm is in ALARM"]);
    const bug = new TypeError("undefined is not a function");
    expect(() => reportOperatorError(bug, (l) => lines.push(l))).toThrow(bug);
  });
});
