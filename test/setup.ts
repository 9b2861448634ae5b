import { Testing } from "cdktf";
// Types of cdktf's matchers (toHaveResourceWithProperties, ...), registered at runtime below.
import "cdktf/lib/testing/adapters/jest";

Testing.setupJest();
