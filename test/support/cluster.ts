export * from '../integration/cluster.js';
