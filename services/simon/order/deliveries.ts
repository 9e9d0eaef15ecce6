// The order blocks' sends that do not wait for their receipts: the one tracker of the stage
// machinery (services/common/deliveries.ts), which the secure vector sum uses too.
export { Deliveries } from '../../common/deliveries.js';
