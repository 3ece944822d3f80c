// Specs that build Nest providers in-process would print their log lines between the results.
const { Logger } = require('@nestjs/common');

Logger.overrideLogger(false);
