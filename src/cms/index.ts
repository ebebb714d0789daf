export { dearmor, sniff } from './armor';
export { decryptCms, inspectCms, type CmsHeader, type DecryptOptions } from './decrypt';
export { loadDecryptionKey, type DecryptionKey, type KeyInput } from './keys';
export { describeRecipient, type Recipient } from './recipients';
export { parseCertificate, type CertificateInfo } from './x509';
