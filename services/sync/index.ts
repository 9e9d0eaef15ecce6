// The `Sync` plugin of the model: coordination between the clients of one server.
export { createBarrier, BARRIER_DESCRIPTION, type SyncLimits } from './barrier.js';
export { createBroadcast, BROADCAST_DESCRIPTION, type BroadcastLimits } from './broadcast.js';
