import { describe, expect, it } from 'vitest';
import {
	parseJsonLines,
	recordKindForEntry,
	validateRecord,
	type CddsRecordKind,
} from '../../src/jsonl';

// The examples of the CDDS Contact History Export Reference, as one line each in a real export.
const interaction = {
	STARTDATE: '2012-03-30T10:29:50.407Z',
	MIMETYPE: 'message/rfc822',
	HEADER: '',
	ENTITYTYPEID: 0,
	CONTENT: '',
	SUBTYPEID: 'InboundNew',
	CONTACTID: '0000Xa6VJTWV000M',
	OWNERID: 126,
	MAILBOX: '"Contact Center" <main@mcr.dev>',
	CREATORAPPID: 171,
	MEDIATYPEID: 'email',
	STATUS: 3,
	TENANTID: 101,
	IXNID: '0002Ha7QB2MX000R',
	FROMADDRESS: 'Client1@cust.dev',
	CANBEPARENT: 1,
	TEXT: ' 0 Test memory leak ',
	TOADDRESSES: 'main@mcr.dev',
	ENDDATE: '2012-03-30T10:29:32.957Z',
	THREADHASH: 20772491,
	EXTERNALID: '',
	ALLATTRIBUTES: {
		'CBR-actual_volume': '',
		Ctg_0000Ra6J43AQ00AQ: '60',
		RStrategyDBID: '252',
		ServiceObjective: 0,
		_ContainsAttachment: 'false',
		_AutoReplyCount: 0,
		Subject: 'Automatic tests via Sikuli - Check memory leak',
		ContactId: '0000Xa6VJTWV000M',
		'Header_Content-Type': 'multipart/mixed; boundary="----=_Part_0_8026323.1333103294535"',
		IWAttachedDataInformation: {
			'DispositionCodeValues.DC_Accepted': 'Accepted',
			'CaseData.URL1': 'URL1',
		},
		'PegAGAgent Group 80001': 1,
		RRequestedSkills: {},
		EmailAddress: 'Client1@cust.dev',
	},
	TIMESHIFT: 120,
	SENTDATE: '2012-03-30T10:28:14.000Z',
	THESIZE: 622,
	SUBJECT: 'Automatic tests via Sikuli - Check memory leak',
	THREADID: '0002Ha7QB2MX000S',
	TYPEID: 'Inbound',
};
const document = {
	ID: '0003Ra7VSTDP03H0',
	MIMETYPE: 'message/rfc822',
	DESCRIPTION: '',
	ENTITYTYPEID: 0,
	CONTENT: 'RnJvbTogQ2xpZW50MUBjdXN0LmRldg0K',
	THENAME: 'OriginalMsg.eml',
	DOCUMENTID: '0003Ra7VSTDP03H0',
	ENTITYID: '0003Ra7VSTDP03FU',
	THESIZE: 628,
};
const contact = {
	CONTACTID: '00001a57JGQ00039',
	STRATTRIBUTE4: 'Joseph',
	TENANTID: 101,
	CREATEDDATE: '2009-08-05T08:30:25.467Z',
	STRATTRIBUTE2: 'A.Joseph@mycompany.com',
	MODIFIEDDATE: '2009-08-05T08:30:25.513Z',
	STRATTRIBUTE5: 'A',
};
const contactAttribute = {
	ID: '00001a57JGQ0003A',
	CONTACTID: '00001a57JGQ00039',
	STRVALUELOWERCASE: 'joseph',
	ISPRIMARY: 1,
	ATTRIBUTEID: '00001a57JGQ00008',
	STRVALUE: 'Joseph',
	ATTRIBUTENAME: 'LastName',
};
const examples: Record<CddsRecordKind, Record<string, unknown>> = {
	interaction,
	document,
	contact,
	contactAttribute,
};

// Every property of the four JSON Schemas of the reference, by type.
// int64: `"type": "string", "format": "int64"`.
const documented: Record<
	CddsRecordKind,
	{ string: string[]; integer: string[]; object?: string[]; int64?: string[] }
> = {
	interaction: {
		string:
			`IXNID MEDIATYPEID TYPEID SUBTYPEID EXTERNALID CONTACTID PARENTID STARTDATE MODIFIEDDATE ENDDATE THREADID CATEGORYID
			SUBJECT TEXT STRUCTUREDTEXT STRUCTTEXTMIMETYPE THECOMMENT QUEUENAME STRATTRIBUTE1 STRATTRIBUTE2 STRATTRIBUTE3 STRATTRIBUTE4
			STRATTRIBUTE5 STRATTRIBUTE6 STRATTRIBUTE7 STRATTRIBUTE8 STRATTRIBUTE9 STRATTRIBUTE10 WEBSAFEEMAILSTATUS STOPPEDREASON LANG
			FROMADDRESS FROMPERSONAL REPLYTOADDRESS TOADDRESSES CCADDRESSES BCCADDRESSES SENTDATE MAILBOX WHICHRULEMATCHED EMAILOUTID
			HEADER FromAddressEmailOut FromPersonalEmailOut ReplyToAddressEmailOut ToAddressesEmailOut CcAddressesEmailOut
			BccAddressesEmailOut SentDateEmailOut REFERENCEID STANDARDRESPONSEID ESTABLISHEDDATE RELEASEDDATE OUTCOME PHONENUMBER
			TCONNECTIONID DETAILEDDESCRIPTION CUSTOMDATA STARTTIME ENDTIME CUSTOMERNUMBER DN LOCATION CALLBACKSERVERID MIMETYPE CONTENT
			SUBSCRIBERID`.split(/\s+/),
		integer:
			`STATUS ENTITYTYPEID OWNERID TIMESHIFT TENANTID SUBTENANTID THREADHASH CANBEPARENT CREATORAPPID INTATTRIBUTE1
			INTATTRIBUTE2 INTATTRIBUTE3 INTATTRIBUTE4 INTATTRIBUTE5 ISSPAM ISCATEGORYAPPROVED FORWARD REVIEWERID DURATION CALLBACKSTATUS
			DESIREDRESPONSETYPE ATTEMPTS CALLRESULT THETYPE THESIZE`.split(/\s+/),
		object: ['ALLATTRIBUTES'],
	},
	document: {
		string: 'ID MIMETYPE THENAME DESCRIPTION CONTENT DOCUMENTID ENTITYID'.split(' '),
		integer: ['THESIZE', 'ENTITYTYPEID'],
	},
	contact: {
		string:
			`CONTACTID STRATTRIBUTE1 STRATTRIBUTE2 STRATTRIBUTE3 STRATTRIBUTE4 STRATTRIBUTE5 STRATTRIBUTE6 STRATTRIBUTE7 STRATTRIBUTE8
			STRATTRIBUTE9 STRATTRIBUTE10 CREATEDDATE MODIFIEDDATE MERGEID SUBSCRIBERID`.split(/\s+/),
		integer: ['TENANTID', 'SUBTENANTID', 'ISEXTERNALRESOURCE'],
		int64: ['DATEATTRIBUTE1', 'DATEATTRIBUTE2', 'DATEATTRIBUTE3'],
	},
	contactAttribute: {
		string:
			'ID CONTACTID ATTRIBUTEID ATTRIBUTENAME MIMETYPE STRVALUE STRVALUELOWERCASE BINVALUE DATEVALUE DESCRIPTION'.split(
				' ',
			),
		integer: ['ISPRIMARY', 'TENANTID', 'SUBTENANTID'],
	},
};
const required: Record<CddsRecordKind, Record<string, string>> = {
	interaction: { IXNID: 'x' },
	document: {},
	contact: { CONTACTID: 'x' },
	contactAttribute: {},
};
const kinds = Object.keys(examples) as CddsRecordKind[];

describe('validateRecord', () => {
	it('accepts the examples of the reference as they are', () => {
		for (const kind of kinds)
			expect(validateRecord(kind, examples[kind]), kind).toEqual({
				ok: true,
				record: examples[kind],
			});
	});

	it('keeps fields the reference does not document, at the top level and inside ALLATTRIBUTES', () => {
		const r = validateRecord('interaction', {
			...interaction,
			SomeFieldAddedLater: [1, { x: 'kept' }],
		});
		expect(r.ok && r.record.SomeFieldAddedLater).toEqual([1, { x: 'kept' }]);
		expect(r.ok && r.record.ALLATTRIBUTES).toEqual(interaction.ALLATTRIBUTES);
		expect(
			validateRecord('contact', { ...contact, EmailAddress: 'Client1@cust.dev' }),
		).toMatchObject({ ok: true, record: { EmailAddress: 'Client1@cust.dev' } });
	});

	it('types every documented field as the reference does', () => {
		for (const kind of kinds) {
			const { string, integer, object = [], int64 = [] } = documented[kind];
			for (const name of string) {
				expect(
					validateRecord(kind, { ...required[kind], [name]: 'text' }).ok,
					`${kind}.${name}`,
				).toBe(true);
				expect(validateRecord(kind, { ...required[kind], [name]: 7 }), `${kind}.${name}`).toEqual({
					ok: false,
					reason: `${name}: expected string, received number`,
				});
			}
			for (const name of integer) {
				expect(validateRecord(kind, { ...required[kind], [name]: 7 }).ok, `${kind}.${name}`).toBe(
					true,
				);
				expect(validateRecord(kind, { ...required[kind], [name]: '7' }), `${kind}.${name}`).toEqual(
					{ ok: false, reason: `${name}: expected number, received string` },
				);
				expect(validateRecord(kind, { ...required[kind], [name]: 7.5 }), `${kind}.${name}`).toEqual(
					{ ok: false, reason: `${name}: expected an integer` },
				);
			}
			for (const name of int64) {
				for (const value of ['1700000000000', 1_700_000_000_000, '-5', 0, null])
					expect(
						validateRecord(kind, { ...required[kind], [name]: value }).ok,
						`${kind}.${name} = ${value}`,
					).toBe(true);
				for (const value of [1.5, true, { ms: 1 }, [1]]) {
					expect(
						validateRecord(kind, { ...required[kind], [name]: value }),
						`${kind}.${name}`,
					).toEqual({ ok: false, reason: `${name}: expected an int64 as a string or an integer` });
				}
			}
			for (const name of object) {
				expect(
					validateRecord(kind, { ...required[kind], [name]: { a: { b: 1 } } }).ok,
					`${kind}.${name}`,
				).toBe(true);
				expect(
					validateRecord(kind, { ...required[kind], [name]: 'a=1' }),
					`${kind}.${name}`,
				).toEqual({ ok: false, reason: `${name}: expected object, received string` });
				expect(validateRecord(kind, { ...required[kind], [name]: [] }), `${kind}.${name}`).toEqual({
					ok: false,
					reason: `${name}: expected object, received array`,
				});
			}
		}
	});

	it('takes DATEATTRIBUTE1–3 ("type": "string", "format": "int64") as the documented string or as the number', () => {
		const asString = {
			...contact,
			DATEATTRIBUTE1: '1249461025467',
			DATEATTRIBUTE2: '9223372036854775807',
			DATEATTRIBUTE3: '',
		};
		expect(validateRecord('contact', asString)).toEqual({ ok: true, record: asString });
		const asNumber = {
			...contact,
			DATEATTRIBUTE1: 1249461025467,
			DATEATTRIBUTE2: 2 ** 62,
			DATEATTRIBUTE3: 0,
		};
		expect(validateRecord('contact', asNumber)).toEqual({ ok: true, record: asNumber });
		// Whatever the spelling of the name.
		expect(validateRecord('contact', { ContactId: 'c', dateAttribute1: 1249461025467 })).toEqual({
			ok: true,
			record: { CONTACTID: 'c', DATEATTRIBUTE1: 1249461025467 },
		});
		expect(validateRecord('contact', { ...contact, DATEATTRIBUTE2: 12.5 })).toEqual({
			ok: false,
			reason: 'DATEATTRIBUTE2: expected an int64 as a string or an integer',
		});
	});

	it('requires only the fields the reference marks as required', () => {
		const { IXNID: _ixnId, ...noId } = interaction;
		expect(validateRecord('interaction', noId)).toEqual({
			ok: false,
			reason: 'IXNID: missing (required)',
		});
		expect(validateRecord('contact', { TENANTID: 101 })).toEqual({
			ok: false,
			reason: 'CONTACTID: missing (required)',
		});
		expect(validateRecord('interaction', { IXNID: '0002Ha7QB2MX000R' }).ok).toBe(true);
		expect(validateRecord('contact', { CONTACTID: '00001a57JGQ00039' }).ok).toBe(true);
		expect(validateRecord('document', {}).ok).toBe(true);
		expect(validateRecord('contactAttribute', {}).ok).toBe(true);
	});

	it('accepts null for optional fields, not for required ones', () => {
		expect(
			validateRecord('interaction', {
				...interaction,
				PARENTID: null,
				STATUS: null,
				ALLATTRIBUTES: null,
			}).ok,
		).toBe(true);
		expect(validateRecord('document', { ...document, CONTENT: null, THESIZE: null }).ok).toBe(true);
		expect(validateRecord('interaction', { ...interaction, IXNID: null })).toEqual({
			ok: false,
			reason: 'IXNID: expected string, received null',
		});
	});

	it('accepts integers beyond 2^53 (JSON Schema integers are not limited to safe ones)', () => {
		expect(validateRecord('interaction', { ...interaction, THREADHASH: 2 ** 60 }).ok).toBe(true);
	});

	it('refuses what is not an object, and counts the other problems without listing them', () => {
		expect(validateRecord('contact', [contact])).toEqual({
			ok: false,
			reason: 'the record: expected object, received array',
		});
		expect(validateRecord('document', null)).toEqual({
			ok: false,
			reason: 'the record: expected object, received null',
		});
		expect(
			validateRecord('interaction', {
				...interaction,
				STATUS: 'closed',
				THESIZE: '622',
				TENANTID: 1.5,
			}),
		).toEqual({
			ok: false,
			reason: 'STATUS: expected number, received string (and 2 more problems)',
		});
	});

	it('never puts a value into the reason', () => {
		const r = validateRecord('contact', { CONTACTID: 4111111111111111, STRATTRIBUTE2: 42 });
		expect(r).toEqual({
			ok: false,
			reason: 'CONTACTID: expected string, received number (and 1 more problem)',
		});
	});

	it('matches documented names whatever their case, and returns them as documented', () => {
		// The reference's own first example, and UDM's camelCase names.
		expect(
			validateRecord('contact', {
				ContactId: '00001a57JGQ00A8TZSA',
				tenantid: 101,
				createddate: '2015-08-05 08:31:20.78',
			}),
		).toEqual({
			ok: true,
			record: {
				CONTACTID: '00001a57JGQ00A8TZSA',
				TENANTID: 101,
				CREATEDDATE: '2015-08-05 08:31:20.78',
			},
		});
		const udm = {
			ixnId: '0002Ha7QB2MX000R',
			entityTypeId: 0,
			structTextMimetype: 'text/html',
			fromAddressEmailOut: 'a@b.c',
			allAttributes: { x: 1 },
			extra: true,
		};
		expect(validateRecord('interaction', udm)).toEqual({
			ok: true,
			record: {
				IXNID: '0002Ha7QB2MX000R',
				ENTITYTYPEID: 0,
				STRUCTTEXTMIMETYPE: 'text/html',
				FromAddressEmailOut: 'a@b.c',
				ALLATTRIBUTES: { x: 1 },
				extra: true,
			},
		});
		expect(udm.ixnId).toBe('0002Ha7QB2MX000R');
		expect(validateRecord('interaction', { ixnId: 'x', status: 'closed' })).toEqual({
			ok: false,
			reason: 'STATUS: expected number, received string',
		});
		expect(validateRecord('contact', { contactid: 42 })).toEqual({
			ok: false,
			reason: 'CONTACTID: expected string, received number',
		});
	});

	it('prefers the documented spelling when both are present, and keeps the other as an unknown field', () => {
		expect(validateRecord('document', { ENTITYID: 'a', EntityId: 'b' })).toEqual({
			ok: true,
			record: { ENTITYID: 'a', EntityId: 'b' },
		});
	});

	it('validates the records of an export read with parseJsonLines, by the kind the entry name gives', async () => {
		const job = '2b710a2c-0e7f-4918-983c-c02d108eaeb0';
		const files: Record<string, unknown[]> = {
			[`EmailIn-${job}.json`]: [
				interaction,
				{ ...interaction, IXNID: '0002Ha7QB2MX000T', STATUS: 'stopped' },
			],
			[`EmailIn-Attachment-${job}.json`]: [document],
			[`Contact-${job}.json`]: [contact],
		};
		const results: string[] = [];
		for (const [name, records] of Object.entries(files)) {
			const kind = recordKindForEntry(name);
			if (kind === undefined) throw new Error(`no kind for ${name}`);
			const lines = Buffer.from(records.map((r) => JSON.stringify(r)).join('\r\n'));
			for await (const record of parseJsonLines([lines], { source: name })) {
				const r = validateRecord(kind, record.value);
				results.push(r.ok ? `${name}:${record.line} ok` : `${name}:${record.line}: ${r.reason}`);
			}
		}
		expect(results).toEqual([
			`EmailIn-${job}.json:1 ok`,
			`EmailIn-${job}.json:2: STATUS: expected number, received string`,
			`EmailIn-Attachment-${job}.json:1 ok`,
			`Contact-${job}.json:1 ok`,
		]);
	});
});

describe('recordKindForEntry', () => {
	const job = '2b710a2c-0e7f-4918-983c-c02d108eaeb0';

	it('knows the documented names: <EntityType>-<jobId>.json and <EntityType>-Attachment-<jobId>.json', () => {
		for (const type of [
			'Interaction',
			'EmailIn',
			'EmailOut',
			'Chat',
			'PhoneCall',
			'Callback',
			'CoBrowse',
		]) {
			expect(recordKindForEntry(`${type}-${job}.json`), type).toBe('interaction');
			expect(recordKindForEntry(`${type}-Attachment-${job}.json`), type).toBe('document');
		}
		expect(recordKindForEntry('Chat-4711.json')).toBe('interaction');
	});

	it('takes contacts and contact attributes by the same pattern', () => {
		expect(recordKindForEntry(`Contact-${job}.json`)).toBe('contact');
		expect(recordKindForEntry(`Contact-Attachment-${job}.json`)).toBe('contactAttribute');
		expect(recordKindForEntry(`Contact-Attribute-${job}.json`)).toBe('contactAttribute');
		expect(recordKindForEntry(`ContactAttributes-${job}.json`)).toBe('contactAttribute');
	});

	it('ignores folders and case, and accepts .jsonl', () => {
		expect(recordKindForEntry(`export/2024/emailin-attachment-${job}.JSON`)).toBe('document');
		expect(recordKindForEntry(`export\\CONTACT-${job}.jsonl`)).toBe('contact');
	});

	it('says nothing about other names, schema files included', () => {
		for (const name of [
			'notes.txt',
			'Something-else.json',
			`Interaction-${job}.zip`,
			'interaction.json',
			`Interaction-schema-${job}.json`,
			`export-${job}.z12.smime`,
			'.json',
			`Interaction-${job}.json/`,
		]) {
			expect(recordKindForEntry(name), name).toBeUndefined();
		}
	});
});
