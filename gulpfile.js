// Copies node and credential icons next to the compiled JavaScript, where n8n looks for them.
const { src, dest } = require('gulp');

function copyIcons() {
	return src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}'], { base: '.', allowEmpty: true, encoding: false }).pipe(
		dest('dist'),
	);
}

exports['build:icons'] = copyIcons;
