// PersistentVolume binder (upstream pkg/controller/volume/persistentvolume, simplified): binds Pending claims to the
// smallest fitting Available PV (or the one they name), keeps PV and claim phases right, releases a PV whose claim
// is gone and applies its reclaim policy. There is no provisioner: claims nothing fits wait, with upstream's events.

import type { KubeObject } from '../../api/types.js';
import { EventRecorder } from '../../client/events.js';
import { Informer } from '../../client/informer.js';
import { isNotFound, type Client } from '../../client/interface.js';
import { NODES, PERSISTENTVOLUMES, PODS, PVCS, STORAGECLASSES } from '../../client/resources.js';
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import type { Node } from '../../api/corev1/types.js';
import { errorMessage, type Controller, type Logger } from '../controller.js';
import { claimBoundTo, claimWithStatus, volumeBoundTo, volumeUnbound, volumeWithPhase } from './bind.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  findBestMatch,
  isDelayBinding,
  isVolumeBoundToClaim,
  noMatchAction,
  volumeMismatch,
} from './match.js';
export { PERSISTENTVOLUMES, PVCS, STORAGECLASSES };

export interface PersistentVolumeControllerOptions {
  log?: Logger;
  /** Every claim and volume is synced again this often, as upstream's 15 s --pvclaimbinder-sync-period. */
  resyncMs?: number;
  now?: () => Date;
}

type Spec = Record<string, any>;
const spec = (o: KubeObject): Spec => (o.spec ?? {}) as Spec;
const phaseOf = (o: KubeObject): string => String(((o.status ?? {}) as Spec).phase ?? '');

/** Queue keys: `claim:<ns>/<name>` and `volume:<name>`, so one worker serialises all binding decisions. */
const claimKey = (ns: string | undefined, name: string): string => `claim:${ns ?? ''}/${name}`;
const volumeKey = (name: string): string => `volume:${name}`;

const asClaim = (o: KubeObject): KubeObject => ({ ...o, apiVersion: 'v1', kind: 'PersistentVolumeClaim' });
const asVolume = (o: KubeObject): KubeObject => ({ ...o, apiVersion: 'v1', kind: 'PersistentVolume' });

export class PersistentVolumeController implements Controller {
  readonly name = 'persistentvolume-binder-controller';
  readonly queue = new WorkQueue<string>();
  readonly volumes: Informer;
  readonly claims: Informer;
  readonly classes: Informer;
  readonly pods: Informer;
  private readonly recorder: EventRecorder;
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(
    private readonly client: Client,
    opts: PersistentVolumeControllerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? (() => new Date());
    this.recorder = new EventRecorder(client, 'persistentvolume-controller');
    const onError = (what: string) => (e: unknown) => this.log(`${what} informer: ${errorMessage(e)}`);
    const resyncMs = opts.resyncMs ?? 15_000;
    this.volumes = new Informer(client, PERSISTENTVOLUMES, { resyncMs, onError: onError('persistentvolumes') });
    this.claims = new Informer(client, PVCS, { resyncMs, onError: onError('persistentvolumeclaims') });
    this.classes = new Informer(client, STORAGECLASSES, { onError: onError('storageclasses') });
    this.pods = new Informer(client, PODS, { onError: onError('pods') });

    const volChanged = (v: KubeObject): void => {
      this.queue.add(volumeKey(v.metadata.name ?? ''));
      // A volume that became Available (or changed) may fit a waiting claim.
      if (phaseOf(v) === 'Available' || !spec(v).claimRef) this.enqueueUnboundClaims();
      const ref = spec(v).claimRef as Spec | undefined;
      if (ref?.name) this.queue.add(claimKey(ref.namespace, ref.name));
    };
    this.volumes.addEventHandler({ add: volChanged, update: (_o, n) => volChanged(n), delete: (v) => this.enqueueClaimsOf(v) });
    const claimChanged = (c: KubeObject): void => {
      this.queue.add(claimKey(c.metadata.namespace, c.metadata.name ?? ''));
    };
    this.claims.addEventHandler({
      add: claimChanged,
      update: (_o, n) => claimChanged(n),
      // A deleted claim releases its volume: sync the volumes that point at it.
      delete: (c) => {
        const vn = spec(c).volumeName;
        if (vn) this.queue.add(volumeKey(vn));
        for (const v of this.volumes.list()) if (isVolumeBoundToClaim(v, c)) this.queue.add(volumeKey(v.metadata.name ?? ''));
      },
    });
    this.classes.addEventHandler({ add: () => this.enqueueUnboundClaims(), update: () => this.enqueueUnboundClaims() });
    // Delayed (WaitForFirstConsumer) claims bind once a pod uses them.
    const podChanged = (p: KubeObject): void => {
      for (const v of ((spec(p).volumes ?? []) as Spec[])) if (v.persistentVolumeClaim?.claimName) this.queue.add(claimKey(p.metadata.namespace, String(v.persistentVolumeClaim.claimName)));
    };
    this.pods.addEventHandler({ add: podChanged, update: (o, n) => (spec(o).nodeName !== spec(n).nodeName ? podChanged(n) : undefined) });
  }

  private enqueueUnboundClaims(): void {
    for (const c of this.claims.list()) if (!spec(c).volumeName || phaseOf(c) !== 'Bound') this.queue.add(claimKey(c.metadata.namespace, c.metadata.name ?? ''));
  }

  private enqueueClaimsOf(v: KubeObject): void {
    const ref = spec(v).claimRef as Spec | undefined;
    if (ref?.name) this.queue.add(claimKey(ref.namespace, ref.name));
  }

  async run(): Promise<void> {
    for (const i of [this.volumes, this.claims, this.classes, this.pods]) i.start();
    await Promise.all([this.volumes.hasSynced, this.claims.hasSynced, this.classes.hasSynced, this.pods.hasSynced]);
    await runWorkers(this.queue, 1, (k) => this.sync(k), (k, e) => this.log(`error syncing ${k}, retrying: ${errorMessage(e)}`));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.volumes.stop(), this.claims.stop(), this.classes.stop(), this.pods.stop()]);
    await this.recorder.flush();
  }

  async sync(key: string): Promise<void> {
    if (key.startsWith('claim:')) {
      const claim = this.claims.get(key.slice('claim:'.length));
      if (claim && !claim.metadata.deletionTimestamp) await this.syncClaim(structuredClone(claim));
    } else if (key.startsWith('volume:')) {
      const pv = this.volumes.get(key.slice('volume:'.length));
      if (pv) await this.syncVolume(structuredClone(pv));
    }
  }

  // ---- claims ----------------------------------------------------------------------------------------------------

  private async syncClaim(claim: KubeObject): Promise<void> {
    if (claim.metadata.annotations?.[ANN_BIND_COMPLETED] === undefined) await this.syncUnboundClaim(claim);
    else await this.syncBoundClaim(claim);
  }

  private async syncUnboundClaim(claim: KubeObject): Promise<void> {
    const volumeName = String(spec(claim).volumeName ?? '');
    if (!volumeName) {
      const cls = this.classes.get(claimClass(claim));
      const delayed = isDelayBinding(cls);
      let node: Node | undefined;
      if (delayed) {
        // Upstream's scheduler picks the node (volume.kubernetes.io/selected-node); ours has no volume binding
        // plugin, so the first pod using the claim stands for the consumer, and its node (once bound) for the node.
        const consumer = this.consumerOf(claim);
        const selected = claim.metadata.annotations?.[ANN_SELECTED_NODE] ?? (consumer ? String(spec(consumer).nodeName ?? '') : '');
        if (!consumer && !claim.metadata.annotations?.[ANN_SELECTED_NODE]) {
          this.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
          await this.writeClaimStatus(claim, 'Pending');
          return;
        }
        if (selected) node = await this.node(selected);
      }
      const pv = findBestMatch(claim, this.volumes.list(), node);
      if (!pv) {
        await this.noVolume(claim, noMatchAction(claim, cls, false));
        await this.writeClaimStatus(claim, 'Pending');
        return;
      }
      await this.bind(structuredClone(pv), claim);
      return;
    }
    // The claim names its volume (pre-bound by the user, or a bind this controller has begun).
    const pv = this.volumes.get(volumeName);
    if (!pv) {
      await this.writeClaimStatus(claim, 'Pending');
      return;
    }
    const ref = spec(pv).claimRef as Spec | undefined;
    if (!ref) {
      const why = volumeMismatch(pv, claim);
      if (why) {
        this.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume ${JSON.stringify(volumeName)}: ${why}`);
        await this.writeClaimStatus(claim, 'Pending');
        return;
      }
      await this.bind(structuredClone(pv), claim);
      return;
    }
    if (isVolumeBoundToClaim(pv, claim)) {
      await this.bind(structuredClone(pv), claim);
      return;
    }
    // The volume belongs to another claim.
    if (claim.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined) {
      this.event(claim, 'Warning', 'FailedBinding', 'Two claims are bound to the same volume, this one is bound incorrectly');
    }
    await this.writeClaimStatus(claim, 'Pending');
  }

  private async syncBoundClaim(claim: KubeObject): Promise<void> {
    const volumeName = String(spec(claim).volumeName ?? '');
    if (!volumeName) {
      await this.claimLost(claim, 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return;
    }
    const pv = this.volumes.get(volumeName);
    if (!pv) {
      await this.claimLost(claim, 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return;
    }
    const ref = spec(pv).claimRef as Spec | undefined;
    if (!ref || ref.uid === claim.metadata.uid || isVolumeBoundToClaim(pv, claim)) {
      await this.bind(structuredClone(pv), claim);
      return;
    }
    await this.claimLost(claim, 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  private async claimLost(claim: KubeObject, msg: string): Promise<void> {
    if (phaseOf(claim) !== 'Lost') this.event(claim, 'Warning', 'ClaimLost', msg);
    await this.writeClaimStatus(claim, 'Lost');
  }

  private async noVolume(claim: KubeObject, action: ReturnType<typeof noMatchAction>): Promise<void> {
    switch (action.kind) {
      case 'wait-first-consumer':
        this.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
        return;
      case 'no-class':
        this.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
        return;
      case 'class-not-found':
      case 'no-plugin':
        this.event(claim, 'Warning', 'ProvisioningFailed', action.message);
        return;
      case 'external': {
        const ann = claim.metadata.annotations ?? {};
        if (ann[ANN_STORAGE_PROVISIONER] !== action.provisioner || ann[ANN_BETA_STORAGE_PROVISIONER] !== action.provisioner) {
          claim.metadata.annotations = { ...ann, [ANN_STORAGE_PROVISIONER]: action.provisioner, [ANN_BETA_STORAGE_PROVISIONER]: action.provisioner };
          const updated = await this.client.update(PVCS, claim.metadata.namespace, claim);
          claim.metadata = updated.metadata;
          claim.spec = updated.spec;
        }
        this.event(claim, 'Normal', 'ExternalProvisioning', action.message);
        return;
      }
    }
  }

  /** A pod in the claim's namespace that uses it (a consumer, for delayed binding). */
  private consumerOf(claim: KubeObject): KubeObject | undefined {
    return this.pods
      .list()
      .find(
        (p) =>
          p.metadata.namespace === claim.metadata.namespace &&
          !p.metadata.deletionTimestamp &&
          ((spec(p).volumes ?? []) as Spec[]).some((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name),
      );
  }

  private async node(name: string): Promise<Node | undefined> {
    try {
      return (await this.client.get(NODES, undefined, name)) as unknown as Node;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * upstream bind(): PV claimRef, PV phase Bound, claim volumeName + annotations, claim status Bound — each write
   * skipped when the object already says so, each guarded by its resourceVersion (a conflict requeues).
   */
  private async bind(pv: KubeObject, claim: KubeObject): Promise<void> {
    const name = pv.metadata.name ?? '';
    let v = pv;
    const withRef = volumeBoundTo(v, claim);
    if (withRef) v = await this.client.update(PERSISTENTVOLUMES, undefined, withRef);
    const bound = volumeWithPhase(v, 'Bound', this.now());
    if (bound) v = await this.client.update(PERSISTENTVOLUMES, undefined, bound, 'status');
    let c = claim;
    const named = claimBoundTo(c, v);
    if (named) c = await this.client.update(PVCS, c.metadata.namespace, named);
    const st = claimWithStatus(c, 'Bound', v);
    if (st) c = await this.client.update(PVCS, c.metadata.namespace, st, 'status');
    if (withRef || named) this.log(`bound claim ${c.metadata.namespace}/${c.metadata.name} to volume ${name}`);
  }

  private async writeClaimStatus(claim: KubeObject, phase: string): Promise<void> {
    const next = claimWithStatus(claim, phase);
    if (next) await this.client.update(PVCS, claim.metadata.namespace, next, 'status');
  }

  // ---- volumes ---------------------------------------------------------------------------------------------------

  private async syncVolume(pv: KubeObject): Promise<void> {
    const ref = spec(pv).claimRef as Spec | undefined;
    if (!ref || !ref.uid) {
      // Unclaimed, or pre-bound by name to a claim that has not been bound yet.
      await this.setVolumePhase(pv, 'Available');
      if (ref?.name) this.queue.add(claimKey(ref.namespace, ref.name));
      return;
    }
    let claim = this.claims.get(`${ref.namespace}/${ref.name}`);
    if (claim && claim.metadata.uid !== ref.uid) claim = undefined; // deleted and re-created: not our claim
    if (!claim) {
      // The cache may lag behind a claim created moments ago: ask the server before releasing anything.
      claim = await this.client.get(PVCS, ref.namespace, ref.name).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (claim && claim.metadata.uid !== ref.uid) claim = undefined;
    }
    if (!claim) {
      await this.reclaim(pv);
      return;
    }
    const volName = String(spec(claim).volumeName ?? '');
    if (!volName) {
      // Binding in progress (or a user pre-bound the volume): the claim's sync finishes it.
      this.queue.add(claimKey(ref.namespace, ref.name));
      return;
    }
    if (volName === pv.metadata.name) {
      await this.setVolumePhase(pv, 'Bound');
      return;
    }
    // The claim went to another volume.
    if (pv.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined) {
      const freed = await this.client.update(PERSISTENTVOLUMES, undefined, volumeUnbound(pv));
      await this.setVolumePhase(freed, 'Available');
    }
  }

  /** The claim is gone: Released, then the reclaim policy (Delete removes the PV object only, never host data). */
  private async reclaim(pv: KubeObject): Promise<void> {
    const phase = phaseOf(pv);
    let v = pv;
    if (phase !== 'Released' && phase !== 'Failed') {
      const next = volumeWithPhase(v, 'Released', this.now());
      if (next) v = await this.client.update(PERSISTENTVOLUMES, undefined, next, 'status');
    }
    switch (String(spec(v).persistentVolumeReclaimPolicy ?? 'Retain')) {
      case 'Retain':
        return;
      case 'Delete':
        if (v.metadata.deletionTimestamp) return;
        try {
          await this.client.delete(PERSISTENTVOLUMES, undefined, v.metadata.name ?? '', { preconditions: { uid: v.metadata.uid } });
          this.log(`deleted released volume ${v.metadata.name} (reclaim policy Delete; the data on the host is kept)`);
        } catch (e) {
          if (!isNotFound(e)) {
            this.event(v, 'Warning', 'VolumeFailedDelete', errorMessage(e));
            throw e;
          }
        }
        return;
      case 'Recycle': {
        if (phaseOf(v) !== 'Failed') this.event(v, 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
        const failed = volumeWithPhase(v, 'Failed', this.now(), 'No recycler plugin found for the volume!');
        if (failed) await this.client.update(PERSISTENTVOLUMES, undefined, failed, 'status');
        return;
      }
    }
  }

  private async setVolumePhase(pv: KubeObject, phase: string): Promise<void> {
    const next = volumeWithPhase(pv, phase, this.now());
    if (next) await this.client.update(PERSISTENTVOLUMES, undefined, next, 'status');
  }

  private event(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(obj.metadata.namespace ? asClaim(obj) : asVolume(obj), type, reason, message);
  }
}
