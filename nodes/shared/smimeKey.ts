/**
 * The S/MIME decryption key of an `smimeKeyApi` credential, loaded by the core (PEM, encrypted
 * PKCS#8, PKCS#12). Errors name the credential, never its content.
 */
import type { IDataObject, IExecuteFunctions, IPollFunctions } from 'n8n-workflow';
import { loadDecryptionKey, type DecryptionKey } from '../../src/cms/keys';

export const SMIME_CREDENTIAL = 'smimeKeyApi';

export function decryptionKeyFrom(fields: IDataObject): DecryptionKey {
	const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string).trim() : '');
	return loadDecryptionKey({
		key: text('privateKey'),
		passphrase: text('passphrase') || undefined,
		certificate: text('certificate') || undefined,
		label: 'the S/MIME key credential',
	});
}

export async function decryptionKey(context: IExecuteFunctions | IPollFunctions, itemIndex = 0): Promise<DecryptionKey> {
	const fields = (await context.getCredentials(SMIME_CREDENTIAL, itemIndex)) as IDataObject;
	return decryptionKeyFrom(fields);
}

/** The certificate of the key credential (PEM), for uploading to Genesys. */
export async function credentialCertificate(context: IExecuteFunctions, itemIndex: number): Promise<string | undefined> {
	const fields = (await context.getCredentials(SMIME_CREDENTIAL, itemIndex)) as IDataObject;
	const certificate = typeof fields.certificate === 'string' ? fields.certificate.trim() : '';
	return certificate === '' ? undefined : certificate;
}
