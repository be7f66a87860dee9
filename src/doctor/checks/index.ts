// The doctor's checks, in the order they run and print. Add a check by adding its module here.
import type { DoctorCheck } from '../types.js';
import { configurationSetCheck } from './configuration-set.js';
import { redisEvictionCheck } from './redis-memory.js';
import { redisPersistenceCheck } from './redis-persistence.js';
import { redisReplicasCheck } from './redis-replicas.js';
import { redisServerCheck } from './redis-server.js';
import { senderIdentitiesCheck } from './sender-identities.js';
import { sesAccountCheck } from './ses-account.js';
import { snsTopicsCheck } from './sns-topics.js';

export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  redisServerCheck,
  redisEvictionCheck,
  redisPersistenceCheck,
  redisReplicasCheck,
  sesAccountCheck,
  senderIdentitiesCheck,
  configurationSetCheck,
  snsTopicsCheck,
];
