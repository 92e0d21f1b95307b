import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Put,
} from '@nestjs/common';
import * as v from 'valibot';
import { bodyObject, nonEmptyString, ValibotBodyPipe } from '../common/valibot-body.pipe.js';
import { CacheService } from './cache.service.js';

const MAX_TTL_SECONDS = 365 * 86_400;
const ttlMessage = `"ttlSeconds" must be an integer between 1 and ${MAX_TTL_SECONDS}`;

const PutCacheBody = bodyObject({
  value: nonEmptyString('value', 1_000_000),
  ttlSeconds: v.optional(
    v.pipe(
      v.number(ttlMessage),
      v.integer(ttlMessage),
      v.minValue(1, ttlMessage),
      v.maxValue(MAX_TTL_SECONDS, ttlMessage),
    ),
  ),
});

const KEY_PATTERN = /^[A-Za-z0-9:_.-]{1,200}$/;

function checkKey(key: string): string {
  if (!KEY_PATTERN.test(key)) {
    throw new BadRequestException('cache key must be 1-200 characters of A-Z a-z 0-9 : _ . -');
  }
  return key;
}

@Controller('cache')
export class CacheController {
  constructor(private readonly cache: CacheService) {}

  @Put(':key')
  @HttpCode(204)
  async put(
    @Param('key') key: string,
    @Body(new ValibotBodyPipe(PutCacheBody)) body: v.InferOutput<typeof PutCacheBody>,
  ): Promise<void> {
    await this.cache.set(checkKey(key), body.value, body.ttlSeconds);
  }

  @Get(':key')
  async get(@Param('key') key: string): Promise<{ key: string; value: string }> {
    const value = await this.cache.get(checkKey(key));
    if (value === undefined) throw new NotFoundException(`no cache entry "${key}"`);
    return { key, value };
  }
}
