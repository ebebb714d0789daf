#!/usr/bin/env node
// The browser test: the package's main node as users meet it in the n8n editor. playwright-core
// (test/e2e/browser, installed on first use) drives the system's chromium (Debian's `chromium`
// package), headless: sign in, open a new workflow, add "Genesys Data Export" through the node
// creator's search, pick its "Create and Wait" action, and check that the node's parameter panel
// shows its credential, Resource and Operation; then save a screenshot (the README shows it).
//   node test/e2e/browser.mjs [--out docs/images/editor-genesys-data-export.png]
// It fails when the node creator does not find the node or the panel lacks those parameters.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
	freePort,
	log,
	pack,
	root,
	setUp,
	sh,
	start,
	readWorkflow,
	stopAll,
	stopChild,
} from './lib.mjs';

const browserDir = join(root, 'test', 'e2e', 'browser');
const NODE_NAME = 'Genesys Data Export';
const ACTION = 'Create a job and wait for its run';
const EXPECTED_LABELS = ['Resource', 'Operation'];
const OWNER = {
	email: 'owner@cx-export.test',
	firstName: 'E2E',
	lastName: 'Owner',
	password: 'Browser-test-1',
};

const testId = (id) => `[data-test-id="${id}"]`;

/** playwright-core from test/e2e/browser, installed from its lock file on first use. */
function playwright() {
	if (!existsSync(join(browserDir, 'node_modules', 'playwright-core'))) {
		log('installing playwright-core (test/e2e/browser, once)');
		sh('npm', ['ci', '--no-audit', '--no-fund'], {
			cwd: browserDir,
			env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
		});
	}
	return createRequire(join(browserDir, 'package.json'))('playwright-core');
}

/** The system's chromium (Debian: `apt-get install chromium`); CHROMIUM_PATH overrides. */
function chromiumPath() {
	if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
	for (const name of ['chromium', 'chromium-browser']) {
		try {
			const found = execFileSync('which', [name], { stdio: ['ignore', 'pipe', 'ignore'] })
				.toString()
				.trim();
			if (found) return found;
		} catch {
			// not on the PATH
		}
	}
	if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
	throw new Error(
		'no chromium found: install Debian\'s "chromium" package (apt-get install chromium) or set CHROMIUM_PATH',
	);
}

/** Closes whatever n8n pops up over the editor on a first visit (surveys, "what's new", notices). */
async function dismissPopups(page) {
	for (let round = 0; round < 5; round++) {
		let closed = false;
		const survey = page.locator(testId('personalization-form'));
		if (await survey.isVisible().catch(() => false)) {
			const skip = page.getByRole('button', { name: /skip|get started|continue/i });
			if (
				await skip
					.first()
					.isVisible()
					.catch(() => false)
			)
				await skip.first().click();
			else await page.keyboard.press('Escape');
			closed = true;
		}
		// Any dialog but the node's parameter panel (itself a dialog).
		for (const dialog of await page
			.locator(`.el-dialog:visible:not(${testId('ndv')}):not(.ndv-wrapper)`)
			.filter({ hasNot: page.locator(testId('ndv')) })
			.all()) {
			const close = dialog
				.locator(
					`${testId('close-button')}, .el-dialog__headerbtn, [aria-label="Close"], [aria-label="close"]`,
				)
				.first();
			if (await close.isVisible().catch(() => false)) await close.click().catch(() => {});
			else await page.keyboard.press('Escape');
			closed = true;
		}
		for (const toast of await page
			.locator('.el-notification:visible .el-notification__closeBtn')
			.all()) {
			await toast.click().catch(() => {});
			closed = true;
		}
		if (!closed) return;
		await page.waitForTimeout(400);
	}
}

/** Waits until one of the locators shows (each wait settles on its own: no stray rejections). */
async function firstVisible(locators, timeout) {
	await Promise.race(locators.map((l) => l.waitFor({ timeout }).catch(() => {})));
}

async function createOwner(base) {
	const response = await fetch(`${base}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(OWNER),
	});
	if (!response.ok)
		throw new Error(
			`n8n owner setup (POST /rest/owner/setup) answered ${response.status}: ${(await response.text()).slice(0, 500)}`,
		);
}

/**
 * In the n8n of `ctx` (what setUp returns): the editor with "Genesys Data Export" added and its
 * parameters open, saved as a PNG at `out`. Starts n8n and chromium and stops both.
 */
export async function editorScreenshot(ctx, { out, workflowOut }) {
	const { chromium } = playwright();
	const executablePath = chromiumPath();
	const port = await freePort();
	const base = `http://127.0.0.1:${port}`;
	const env = {
		...ctx.env,
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_SECURE_COOKIE: 'false',
		N8N_RUNNERS_BROKER_PORT: String(await freePort()),
		// No first-run survey, "what's new" or hiring notices over the editor.
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
	};
	log(`n8n ${ctx.line}.x: starting the editor on ${base}`);
	const n8n = await start(
		ctx.n8n.node,
		[ctx.n8n.bin, 'start'],
		{ env, cwd: ctx.work },
		/Editor is now accessible/,
		`n8n ${ctx.line}.x`,
	);
	let browser;
	let page;
	try {
		await createOwner(base);
		browser = await chromium.launch({
			executablePath,
			headless: true,
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-dev-shm-usage',
				'--no-first-run',
				'--no-default-browser-check',
				'--disable-background-networking',
				'--disable-extensions',
			],
		});
		const context = await browser.newContext({
			viewport: { width: 1440, height: 900 },
			locale: 'en-US',
			timezoneId: 'UTC',
		});
		context.setDefaultTimeout(30_000);
		page = await context.newPage();

		log(`chromium ${browser.version()}: signing in`);
		await page.goto(`${base}/signin`);
		await page.locator(`${testId('emailOrLdapLoginId')} input`).fill(OWNER.email);
		await page.locator(`${testId('password')} input`).fill(OWNER.password);
		await page.locator(`${testId('password')} input`).press('Enter');
		await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 30_000 });

		log('opening a new workflow');
		await page.goto(`${base}/workflow/new`);
		await page.locator(testId('canvas-wrapper')).waitFor();
		await dismissPopups(page);

		log(`adding "${NODE_NAME}" through the node creator`);
		const addFirstStep = page.locator(testId('canvas-add-button'));
		if (await addFirstStep.isVisible().catch(() => false)) await addFirstStep.click();
		else await page.locator(testId('node-creator-plus-button')).click();
		const creator = page.locator(testId('node-creator'));
		await creator.waitFor();
		await creator.locator(testId('node-creator-search-bar')).fill(NODE_NAME);
		const item = creator
			.locator(testId('node-creator-item-name'), { hasText: new RegExp(`^\\s*${NODE_NAME}\\s*$`) })
			.first();
		const noResults = creator.locator(testId('node-creator-no-results'));
		await firstVisible([item, noResults], 15_000);
		if (!(await item.isVisible().catch(() => false))) {
			const shown = await creator
				.locator(testId('node-creator-item-name'))
				.allInnerTexts()
				.catch(() => []);
			throw new Error(
				`the node creator does not find "${NODE_NAME}" (searching for it shows ${shown.length ? shown.map((s) => `"${s.trim()}"`).join(', ') : 'nothing'}): is the package installed in ${join(ctx.work, '.n8n', 'nodes')} and loaded?`,
			);
		}
		await item.click();
		// A community node opens its details in the creator: for a node with operations, a list of
		// actions (pick "Create and Wait", or the first action); else an "Add to workflow" button.
		const actions = creator.locator(
			`${testId('item-iterator-item')}[data-keyboard-nav-type="action"]`,
		);
		const addToWorkflow = creator.getByRole('button', { name: 'Add to workflow' });
		const ndv = page.locator(testId('ndv'));
		await firstVisible([actions.first(), addToWorkflow, ndv], 10_000);
		if (
			await actions
				.first()
				.isVisible()
				.catch(() => false)
		) {
			const wanted = actions.filter({ hasText: ACTION }).first();
			const action = (await wanted.isVisible().catch(() => false))
				? wanted
				: actions.filter({ hasNotText: /^\s*On a /i }).first();
			log(`picking the action "${(await action.innerText()).split('\n')[0].trim()}"`);
			await action.click();
		} else if (await addToWorkflow.isVisible().catch(() => false)) {
			await addToWorkflow.click();
		}

		// The node's parameter panel: opens by itself when a node is added; else double-click the node.
		try {
			await ndv.waitFor({ timeout: 15_000 });
		} catch {
			// n8n names the node after the action picked.
			const node = page
				.locator(testId('canvas-node'))
				.filter({ hasText: new RegExp(`${NODE_NAME}|${ACTION}`) })
				.first();
			if (!(await node.isVisible().catch(() => false)))
				throw new Error(`"${NODE_NAME}" was not added to the canvas`);
			await node.dblclick();
			await ndv.waitFor({ timeout: 15_000 }).catch(() => {
				throw new Error(`the parameter panel of "${NODE_NAME}" does not open`);
			});
		}
		const parameters = ndv.locator(testId('node-parameters'));
		await parameters.waitFor().catch(() => {
			throw new Error(`the panel of "${NODE_NAME}" shows no parameters`);
		});
		await dismissPopups(page);
		const missing = [];
		for (const label of EXPECTED_LABELS) {
			const shown = parameters
				.locator(testId('parameter-item'))
				.getByText(label, { exact: true })
				.first();
			if (
				!(await shown.waitFor({ timeout: 10_000 }).then(
					() => true,
					() => false,
				))
			)
				missing.push(label);
		}
		if (
			!(await parameters
				.locator(testId('node-credentials-select'))
				.first()
				.isVisible()
				.catch(() => false))
		)
			missing.push('the credential');
		if (missing.length) {
			const labels = await parameters
				.locator(`${testId('parameter-item')} label`)
				.allInnerTexts()
				.catch(() => []);
			const shown = [
				...new Set(
					labels
						.map((l) => l.split('\n')[0].trim())
						.filter((l) => l && !['Fixed', 'Expression'].includes(l)),
				),
			];
			throw new Error(
				`the parameter panel of "${NODE_NAME}" lacks ${missing.join(', ')} (it shows: ${shown.join(', ') || 'nothing'})`,
			);
		}
		const resource =
			(await parameters
				.locator(`${testId('parameter-input-resource')} input`)
				.first()
				.inputValue()
				.catch(() => '')) || '?';
		const operation =
			(await parameters
				.locator(`${testId('parameter-input-operation')} input`)
				.first()
				.inputValue()
				.catch(() => '')) || '?';
		log(`the panel shows the credential, Resource "${resource}" and Operation "${operation}"`);

		// Let option lists and the credential selection settle, with the mouse out of the way.
		await page.mouse.move(1, 1);
		await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
		await page.waitForTimeout(1000);
		mkdirSync(dirname(out), { recursive: true });
		await page.screenshot({ path: out });

		// The imported nightly export workflow on the canvas, every node drawn (a second page: the
		// first holds an unsaved workflow, and leaving it would ask whether to save).
		if (workflowOut) {
			const workflow = readWorkflow('nightly-export-to-postgres.json');
			log(`opening "${workflow.name}"`);
			const canvasPage = await context.newPage();
			await canvasPage.goto(`${base}/workflow/${workflow.id}`);
			const nodes = canvasPage.locator(testId('canvas-node'));
			await nodes
				.nth(workflow.nodes.length - 1)
				.waitFor({ timeout: 30_000 })
				.catch(() => {});
			const drawn = await nodes.count();
			if (drawn !== workflow.nodes.length)
				throw new Error(
					`the canvas of "${workflow.name}" shows ${drawn} nodes, the workflow has ${workflow.nodes.length}`,
				);
			await dismissPopups(canvasPage);
			await canvasPage.mouse.move(1, 1);
			await canvasPage.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
			await canvasPage.waitForTimeout(1000);
			mkdirSync(dirname(workflowOut), { recursive: true });
			await canvasPage.screenshot({ path: workflowOut });
		}
		return { out, resource, operation };
	} catch (error) {
		if (page) {
			const failure = join(root, '.cache', 'e2e', 'browser-failure.png');
			mkdirSync(dirname(failure), { recursive: true });
			if (
				await page.screenshot({ path: failure }).then(
					() => true,
					() => false,
				)
			)
				error.message += `\n(the page at the failure: ${relative(process.cwd(), failure)})`;
		}
		error.message += `\n--- the n8n log's end ---\n${n8n.output().slice(-1500)}`;
		throw error;
	} finally {
		await browser?.close().catch(() => {});
		await stopChild(n8n.child);
	}
}

async function main() {
	const started = Date.now();
	const at = process.argv.indexOf('--out');
	const outArg = at !== -1 ? process.argv[at + 1] : undefined;
	if (at !== -1 && !outArg) throw new Error('--out needs a path');
	const out = outArg
		? isAbsolute(outArg)
			? outArg
			: resolve(process.cwd(), outArg)
		: join(root, 'docs', 'images', 'editor-genesys-data-export.png');
	const tgz = pack();
	const ctx = await setUp('1', tgz);
	await editorScreenshot(ctx, {
		out,
		workflowOut: join(dirname(out), 'workflow-nightly-export.png'),
	});
	log(
		`browser: screenshot saved to ${relative(process.cwd(), out) || out} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`,
	);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	main()
		.catch((error) => {
			console.error(`[e2e] browser test failed: ${error.message}`);
			process.exitCode = 1;
		})
		.finally(stopAll);
}
