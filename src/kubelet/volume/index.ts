// The kubelet's volume manager (see manager.ts); the kubelet core imports it from here.
export { KubeletVolumeManager, type KubeletVolumeManagerOptions } from './manager.js';
