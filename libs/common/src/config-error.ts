/** A setting is missing or invalid; the message names it and is meant for the person who set it. */
export class ConfigError extends Error {}
