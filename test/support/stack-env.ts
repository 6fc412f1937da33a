/** Tests read the stack's endpoints the same way the demo and the CLI do. */
export { secureKafkaEnv, stackEnv, type SecureKafkaEnv, type StackEnv } from '../../scripts/stack/env.ts';
