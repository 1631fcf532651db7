import type { CheckboxRequest, ConfirmRequest, InputRequest, Io, Progress, SelectRequest } from '../core/io.js';
import type { RunReport } from '../core/report.js';

/**
 * The Io of one region in a several-regions run: lines go to the shared Io prefixed with the
 * region (no spinners: regions run at once), questions go to it as they are (the run is
 * non-interactive), and the plan and result are left to the caller, which combines them.
 */
export class RegionIo implements Io {
  readonly interactive = false;
  constructor(
    private readonly base: Io,
    private readonly region: string,
  ) {}

  get signal() {
    return this.base.signal;
  }

  private tag = (m: string) => `[${this.region}] ${m}`;
  info(m: string) {
    this.base.info(this.tag(m));
  }
  warn(m: string) {
    this.base.warn(this.tag(m));
  }
  error(m: string) {
    this.base.error(this.tag(m));
  }
  debug(m: string) {
    this.base.debug(this.tag(m));
  }

  async task<T>(title: string, work: () => Promise<T>): Promise<T> {
    const value = await work();
    this.base.info(this.tag(`✔ ${title}`));
    return value;
  }
  progress(title: string, total: number): Progress {
    return this.base.progress(this.tag(title), total);
  }
  confirm(req: ConfirmRequest) {
    return this.base.confirm({ ...req, message: this.tag(req.message) });
  }
  select<T>(req: SelectRequest<T>) {
    return this.base.select(req);
  }
  input(req: InputRequest) {
    return this.base.input(req);
  }
  checkbox<T>(req: CheckboxRequest<T>) {
    return this.base.checkbox(req);
  }
  plan(_report: RunReport) {}
  result(_report: RunReport) {}
}
