// Field ownership (metadata.managedFields) and server-side apply: the public surface of api/managedfields.

export { applyServerSide, ApplyConflictError, conflictMessage, LAST_APPLIED_ANNOTATION } from './apply.js';
export type { ApplyInput, ApplyResult, Conflict } from './apply.js';
export { updateManagedFields } from './update.js';
export type { UpdateInput } from './update.js';
export {
  validateManagedFields,
  validateFieldManager,
  validatePatchOptions,
  fieldManagerRequired,
  managerFromUserAgent,
  FIELD_MANAGER_MAX_LENGTH,
  MAX_UPDATE_MANAGERS,
} from './managers.js';
export { FieldSet, pathString } from './fieldset.js';
export type { Path, PathElement } from './fieldset.js';
