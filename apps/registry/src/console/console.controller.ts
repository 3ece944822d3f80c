import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { sendCachedFile } from '../common/cached-file-reply';
import { ApiError } from '../common/http-errors';
import { ConsoleAsset, loadConsoleAssets } from './console-assets';

/** The page may only load what this node serves: no CDN, no inline script, no framing. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Serves the web console (apps/console, built into dist/apps/console): `/` and `/console/<file>`. */
@ApiExcludeController()
@Controller()
export class ConsoleController {
  private readonly assets = loadConsoleAssets();

  @Get()
  index(@Headers() headers: Record<string, string | undefined>, @Res() reply: FastifyReply) {
    this.send('index.html', headers, reply);
  }

  @Get('console/:file')
  asset(
    @Param('file') file: string,
    @Headers() headers: Record<string, string | undefined>,
    @Res() reply: FastifyReply,
  ) {
    if (file === 'index.html') throw notFound(file);
    this.send(file, headers, reply);
  }

  private send(name: string, headers: Record<string, string | undefined>, reply: FastifyReply): void {
    const asset: ConsoleAsset | undefined = this.assets.get(name);
    if (!asset) {
      if (this.assets.size === 0)
        throw new ApiError(404, 'the web console is not built: run `npm run build`', {
          code: 'console_not_built',
        });
      throw notFound(name);
    }
    sendCachedFile(asset, headers, reply, { 'content-security-policy': CONTENT_SECURITY_POLICY });
  }
}

const notFound = (name: string) => new ApiError(404, `no console file '${name}'`, { code: 'not_found' });
