// Copies node and credential icons, and the nodes' codex files (<Name>.node.json), next to the
// compiled JavaScript, where n8n looks for them.
const { src, dest } = require('gulp');

function copyAssets() {
	return src(['nodes/**/*.{png,svg}', 'nodes/**/*.node.json', 'credentials/**/*.{png,svg}'], {
		base: '.',
		allowEmpty: true,
		encoding: false,
	}).pipe(dest('dist'));
}

exports['build:icons'] = copyAssets;
