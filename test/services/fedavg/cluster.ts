// Moved to the one test harness, test/support/cluster.ts; this path stays for existing imports.
export { FEDAVG_SERVICE, startFedAvgCluster, startParty, type FedAvgCluster, type Party } from '../../support/cluster.js';
