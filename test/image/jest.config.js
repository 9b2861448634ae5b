/** `npm run test:image`: the image tests alone (the default run leaves test/image out), one at a time, after scripts/image.sh built the image. */
const base = require("../../jest.config.js");

module.exports = { ...base, rootDir: "../..", roots: ["<rootDir>/test/image"], testPathIgnorePatterns: ["/node_modules/"], maxWorkers: 1 };
