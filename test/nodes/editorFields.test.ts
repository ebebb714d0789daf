/**
 * What n8n's editor shows of each node's parameters. The editor (n8n-editor-ui, nodeTypesUtils:
 * getNodeAuthFields, getMainAuthField, isAuthRelatedParameter) treats every field a credential's
 * displayOptions depend on as an authentication field: the "main" one is drawn in the credential
 * section instead of the parameter list, and every parameter whose own displayOptions depend on an
 * authentication field is hidden from the list. A credential shown by `operation` therefore hid
 * Resource in Genesys Data Export, and one shown by a boolean hid Reassemble Export's "Decrypt Parts"
 * (seen in n8n 1.123 by the browser test). Checked here for every node, with the editor's rules.
 */
import type { INodeProperties, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { Connectif } from '../../nodes/Connectif/Connectif.node';
import { GenesysContextServices } from '../../nodes/GenesysContextServices/GenesysContextServices.node';
import { GenesysDataExport } from '../../nodes/GenesysDataExport/GenesysDataExport.node';
import { GenesysExportTrigger } from '../../nodes/GenesysExportTrigger/GenesysExportTrigger.node';
import { GenesysInteractionsTrigger } from '../../nodes/GenesysInteractionsTrigger/GenesysInteractionsTrigger.node';
import { ParseJsonLines } from '../../nodes/ParseJsonLines/ParseJsonLines.node';
import { ReassembleExport } from '../../nodes/ReassembleExport/ReassembleExport.node';
import { SmimeDecrypt } from '../../nodes/SmimeDecrypt/SmimeDecrypt.node';

const NODES: INodeType[] = [
	new GenesysDataExport(),
	new SmimeDecrypt(),
	new ReassembleExport(),
	new ParseJsonLines(),
	new GenesysExportTrigger(),
	new GenesysInteractionsTrigger(),
	new GenesysContextServices(),
	new Connectif(),
];

/** The fields the node's credentials are shown by (the editor's getNodeAuthFields). */
function authFields(description: INodeTypeDescription): INodeProperties[] {
	const names = new Set(
		(description.credentials ?? []).flatMap((credential) =>
			Object.keys(credential.displayOptions?.show ?? {}),
		),
	);
	return description.properties.filter((property) => names.has(property.name));
}

/** The editor's getMainAuthField: `authentication`, or else a field every value of which shows a credential. */
function mainAuthField(
	description: INodeTypeDescription,
	fields: INodeProperties[],
): INodeProperties | undefined {
	const named = fields.find(
		(f) =>
			f.name === 'authentication' &&
			!(f.options ?? []).some((o) => 'value' in o && o.value === 'none'),
	);
	if (named) return named;
	const values: Record<string, string[]> = {};
	for (const credential of description.credentials ?? []) {
		for (const [field, shown] of Object.entries(credential.displayOptions?.show ?? {})) {
			values[field] = [
				...(values[field] ?? []),
				...(shown ?? []).map((v) => (v === undefined || v === null ? '' : String(v))),
			];
		}
	}
	return fields.find((f) =>
		(f.options ?? []).every(
			(o) => !('value' in o) || typeof o.value !== 'string' || values[f.name].includes(o.value),
		),
	);
}

/** Parameters the editor leaves out of the parameter list (isAuthRelatedParameter). */
function hiddenParameters(description: INodeTypeDescription): string[] {
	const fields = authFields(description);
	return description.properties
		.filter((p) =>
			fields.some((f) => f.displayOptions?.show !== undefined && p.name in f.displayOptions.show),
		)
		.map((p) => p.name);
}

describe("the parameters n8n's editor shows", () => {
	for (const node of NODES) {
		it(`${node.description.displayName}: no parameter is taken for an authentication field and hidden`, () => {
			expect(hiddenParameters(node.description)).toEqual([]);
			const main = mainAuthField(node.description, authFields(node.description));
			expect(
				main === undefined || main.name === 'authentication',
				`"${main?.name}" would be drawn as the node's authentication choice`,
			).toBe(true);
		});
	}

	it('the rules catch what the browser saw: a credential shown by operation hides Resource, one shown by a boolean hides it', () => {
		const description = (
			credentialShow: Record<string, unknown[]>,
			properties: INodeProperties[],
		) =>
			({
				credentials: [{ name: 'x', displayOptions: { show: credentialShow } }],
				properties,
			}) as unknown as INodeTypeDescription;
		const resource: INodeProperties = {
			displayName: 'Resource',
			name: 'resource',
			type: 'options',
			options: [
				{ name: 'A', value: 'a' },
				{ name: 'B', value: 'b' },
			],
			default: 'a',
		};
		const operation: INodeProperties = {
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			options: [{ name: 'Get', value: 'get' }],
			default: 'get',
			displayOptions: { show: { resource: ['a'] } },
		};
		expect(hiddenParameters(description({ operation: ['get'] }, [resource, operation]))).toEqual([
			'resource',
		]);
		const decrypt: INodeProperties = {
			displayName: 'Decrypt',
			name: 'decrypt',
			type: 'boolean',
			default: true,
		};
		expect(mainAuthField(description({ decrypt: [true] }, [decrypt]), [decrypt])?.name).toBe(
			'decrypt',
		);
	});
});
