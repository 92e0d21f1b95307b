import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { requireObject } from '../common/body-validation.js';
import type { JobView } from './job.js';
import { JobsService } from './jobs.service.js';

const ID_PATTERN = /^[0-9a-f-]{36}$/;

@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /** 202 only once the job is stored and a replica acknowledged it; 503 (retryable) otherwise. */
  @Post()
  @HttpCode(202)
  async create(@Body() body: unknown): Promise<{ id: string }> {
    const fields = requireObject(body);
    if (!('payload' in fields)) throw new BadRequestException('"payload" is required (any JSON value)');
    return { id: await this.jobs.enqueue(fields.payload) };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<JobView> {
    if (!ID_PATTERN.test(id)) throw new BadRequestException('job id must be a UUID');
    const job = await this.jobs.find(id);
    if (!job) throw new NotFoundException(`no job "${id}"`);
    return job;
  }
}
