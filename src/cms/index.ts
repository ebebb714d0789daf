export { dearmor, sniff } from './armor';
export {
	DEFAULT_MAX_CMS_HEADER_BYTES,
	decryptCms,
	inspectCms,
	type CmsHeader,
	type DecryptOptions,
} from './decrypt';
export { loadDecryptionKey, type DecryptionKey, type KeyInput } from './keys';
export { describeRecipient, type Recipient } from './recipients';
export { parseCertificate, type CertificateInfo } from './x509';
