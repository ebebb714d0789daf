import { CxError } from '../../src/errors';

/** Awaits `promise` and returns the CxError it rejects with; fails the test otherwise. */
export async function failure(promise: Promise<unknown>): Promise<CxError> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof CxError) return error;
		throw error;
	}
	throw new Error('expected the call to fail with a CxError');
}
