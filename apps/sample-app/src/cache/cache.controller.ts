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
import { optionalPositiveInt, requireString } from '../common/body-validation.js';
import { CacheService } from './cache.service.js';

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
  async put(@Param('key') key: string, @Body() body: unknown): Promise<void> {
    const value = requireString(body, 'value', { maxLength: 1_000_000 });
    const ttlSeconds = optionalPositiveInt(body, 'ttlSeconds', 365 * 86_400);
    await this.cache.set(checkKey(key), value, ttlSeconds);
  }

  @Get(':key')
  async get(@Param('key') key: string): Promise<{ key: string; value: string }> {
    const value = await this.cache.get(checkKey(key));
    if (value === null) throw new NotFoundException(`no cache entry "${key}"`);
    return { key, value };
  }
}
