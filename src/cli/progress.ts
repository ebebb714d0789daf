/** One self-updating progress line on stderr, only when stderr is a terminal. */
export class Progress {
	private read = 0;
	private last = 0;
	private readonly started = Date.now();
	private shown = false;

	constructor(
		private readonly label: string,
		private readonly total: number | undefined,
		private readonly stream: NodeJS.WriteStream = process.stderr,
		private readonly enabled = stream.isTTY === true,
	) {}

	add = (bytes: number): void => {
		this.read += bytes;
		if (!this.enabled) return;
		const now = Date.now();
		if (now - this.last < 200) return;
		this.last = now;
		const seconds = Math.max((now - this.started) / 1000, 0.001);
		const rate = `${mib(this.read / seconds)}/s`;
		const share = this.total
			? ` ${Math.min(100, Math.floor((this.read / this.total) * 100))}%`
			: '';
		const of = this.total ? ` of ${mib(this.total)}` : '';
		this.stream.write(`\r${this.label}:${share} ${mib(this.read)}${of}, ${rate}\x1b[K`);
		this.shown = true;
	};

	done(): void {
		if (this.shown) this.stream.write('\r\x1b[K');
		this.shown = false;
	}
}

export function mib(bytes: number): string {
	return bytes >= 1024 * 1024 * 1024
		? `${(bytes / 1024 ** 3).toFixed(2)} GiB`
		: `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
