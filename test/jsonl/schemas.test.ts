import { describe, expect, it } from 'vitest';
import { recordKindForEntry, validateRecord } from '../../src/jsonl';

// Records shaped like the examples in the CDDS Contact History export reference.
const interaction = {
	IXNID: '0002Ha7QB2MX000R',
	FROMADDRESS: 'Client1@cust.dev',
	CANBEPARENT: 1,
	TEXT: ' 0 Test memory leak ',
	TOADDRESSES: 'main@mcr.dev',
	ENDDATE: '2012-03-30T10:29:32.957Z',
	THREADHASH: 20772491,
	EXTERNALID: '',
	ALLATTRIBUTES: { 'CBR-actual_volume': '', RStrategyDBID: '252', ServiceObjective: 0, _ContainsAttachment: 'false' },
	STATUS: 3,
	PARENTID: null,
	SomeFieldAddedLater: 'kept',
};
const document = { ID: '00001a57JGQ0003B', MIMETYPE: 'application/pdf', THENAME: 'invoice.pdf', THESIZE: 1024, CONTENT: 'JVBERi0xLjQK', ENTITYID: '0002Ha7QB2MX000R', ENTITYTYPEID: 2 };
const contact = { CONTACTID: '00001a57JGQ00039', TENANTID: 101, CREATEDDATE: '2009-08-05T08:30:25.467Z', STRATTRIBUTE2: 'A.Joseph@mycompany.com', EmailAddress: 'Client1@cust.dev' };
const contactAttribute = { ID: '00001a57JGQ0003A', CONTACTID: '00001a57JGQ00039', STRVALUELOWERCASE: 'joseph', ISPRIMARY: 1, ATTRIBUTEID: '00001a57JGQ00008', STRVALUE: 'Joseph', TENANTID: 101 };

describe('CDDS record schemas', () => {
	it('accept the documented examples and keep unknown fields', () => {
		const r = validateRecord('interaction', interaction);
		expect(r.ok).toBe(true);
		if (r.ok) expect(r.record.SomeFieldAddedLater).toBe('kept');
		expect(validateRecord('document', document).ok).toBe(true);
		expect(validateRecord('contact', contact)).toMatchObject({ ok: true, record: { EmailAddress: 'Client1@cust.dev' } });
		expect(validateRecord('contactAttribute', contactAttribute).ok).toBe(true);
	});

	it('require the fields the reference marks as required', () => {
		const { IXNID: _, ...noId } = interaction;
		expect(validateRecord('interaction', noId)).toEqual({ ok: false, reason: expect.stringMatching(/^IXNID: /) });
		expect(validateRecord('contact', { TENANTID: 101 })).toEqual({ ok: false, reason: expect.stringMatching(/^CONTACTID: /) });
		expect(validateRecord('document', {}).ok).toBe(true);
	});

	it('reject a wrong type with a reason naming the field', () => {
		expect(validateRecord('interaction', { ...interaction, STATUS: 'closed' })).toEqual({ ok: false, reason: expect.stringMatching(/^STATUS: .*number/) });
		expect(validateRecord('interaction', { ...interaction, THREADHASH: 1.5 })).toEqual({ ok: false, reason: expect.stringMatching(/^THREADHASH: /) });
		expect(validateRecord('document', { ...document, THESIZE: '1024' })).toEqual({ ok: false, reason: expect.stringMatching(/^THESIZE: /) });
		expect(validateRecord('interaction', { ...interaction, ALLATTRIBUTES: 'x' })).toEqual({ ok: false, reason: expect.stringMatching(/^ALLATTRIBUTES: /) });
	});
});

describe('recordKindForEntry', () => {
	it('knows the CDDS file names', () => {
		const job = '2b710a2c-0e7f-4918-983c-c02d108eaeb0';
		expect(recordKindForEntry(`Interaction-${job}.json`)).toBe('interaction');
		expect(recordKindForEntry(`Interaction-Attachment-${job}.json`)).toBe('document');
		expect(recordKindForEntry(`Contact-${job}.json`)).toBe('contact');
		expect(recordKindForEntry(`Contact-Attribute-${job}.json`)).toBe('contactAttribute');
		expect(recordKindForEntry(`export/ContactAttribute-${job}.jsonl`)).toBe('contactAttribute');
		expect(recordKindForEntry('notes.txt')).toBeUndefined();
		expect(recordKindForEntry('Something-else.json')).toBeUndefined();
	});
});
