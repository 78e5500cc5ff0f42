/**
 * The package entry point, for a CDK app of your own: the responder as one construct, with the props of
 * the cdk.json configuration, and what the app in bin/ deploys beside it (the member and intake stacks).
 */
export { parseConfig, type ResponderConfig, ResponderConfigSchema } from './config.js';
export { RegionalIntakeStack } from './finding-intake.js';
export { GuardDutyResponder, type GuardDutyResponderProps } from './guardduty-responder.js';
export { MemberAccessStack } from './member-access-stack.js';
export { addResponder } from './responder-app.js';
export { ResponderStack } from './responder-stack.js';
