/**
 * The S/MIME decryption key of an `smimeKeyApi` credential, loaded by the core (PEM, encrypted
 * PKCS#8, PKCS#12). Errors name the credential, never its content.
 */
import {
	NodeOperationError,
	type ICredentialsDecrypted,
	type ICredentialTestFunctions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeCredentialTestResult,
	type IPollFunctions,
} from 'n8n-workflow';
import { loadDecryptionKey, type DecryptionKey } from '../../src/cms/keys';

export const SMIME_CREDENTIAL = 'smimeKeyApi';

export function decryptionKeyFrom(fields: IDataObject): DecryptionKey {
	const text = (name: string) =>
		typeof fields[name] === 'string' ? (fields[name] as string).trim() : '';
	return loadDecryptionKey({
		key: text('privateKey'),
		passphrase: text('passphrase') || undefined,
		certificate: text('certificate') || undefined,
		label: 'the S/MIME key credential',
	});
}

/** Whether the node has an S/MIME Decryption Key API credential selected. */
export function hasKeyCredential(context: IExecuteFunctions | IPollFunctions): boolean {
	return context.getNode().credentials?.[SMIME_CREDENTIAL] !== undefined;
}

export async function decryptionKey(
	context: IExecuteFunctions | IPollFunctions,
	itemIndex = 0,
): Promise<DecryptionKey> {
	if (!hasKeyCredential(context)) {
		throw new NodeOperationError(
			context.getNode(),
			'No S/MIME Decryption Key API credential is selected',
			{
				itemIndex,
				description:
					'The files are to be decrypted: select the credential holding the private key of the certificate Genesys encrypts exports to (or turn decryption off)',
			},
		);
	}
	const fields = (await context.getCredentials(SMIME_CREDENTIAL, itemIndex)) as IDataObject;
	return decryptionKeyFrom(fields);
}

/** The certificate of the key credential (PEM), for uploading to Genesys. */
export async function credentialCertificate(
	context: IExecuteFunctions,
	itemIndex: number,
): Promise<string | undefined> {
	const fields = (await context.getCredentials(SMIME_CREDENTIAL, itemIndex)) as IDataObject;
	const certificate = typeof fields.certificate === 'string' ? fields.certificate.trim() : '';
	return certificate === '' ? undefined : certificate;
}

/**
 * Checks an `smimeKeyApi` credential (there is no service to ask): the key loads, with its
 * passphrase, and matches the certificate when one is given. Messages never quote the key.
 */
export function testSmimeKey(credential: ICredentialsDecrypted): INodeCredentialTestResult {
	try {
		const key = decryptionKeyFrom((credential.data ?? {}) as IDataObject);
		const matched = key.certificates[0];
		return {
			status: 'OK',
			message: `The ${key.modulusBytes * 8}-bit RSA key loads${matched ? ` and matches the certificate ${matched.subject}` : ''}`,
		};
	} catch (error) {
		// The core's messages name CLI flags; here the field is what to fix.
		const message =
			error instanceof Error
				? error.message.replace(/\(--passphrase\)/g, '(the Passphrase field)')
				: 'The key could not be loaded';
		return { status: 'Error', message };
	}
}

/** `testSmimeKey` as a node's `methods.credentialTest.smimeKeyTest` (`testedBy: 'smimeKeyTest'`). */
export async function smimeKeyTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	return testSmimeKey(credential);
}
