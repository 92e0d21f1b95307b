import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import * as v from 'valibot';
import { bodyObject, ValibotBodyPipe } from '../common/valibot-body.pipe.js';
import type { JobView } from './job.js';
import { JobsService } from './jobs.service.js';

/** `payload` is any JSON value (null included), but it must be there. */
const CreateJobBody = bodyObject({
  payload: v.custom<unknown>((value) => value !== undefined, '"payload" is required (any JSON value)'),
});

const ID_PATTERN = /^[0-9a-f-]{36}$/;

@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  /**
   * 202 only once the job is in the queue and a replica acknowledged it; 503 (retryable) otherwise.
   * A 503'd job may exist all the same: a client that retries with the same `Idempotency-Key` (a
   * UUID, used as the job id) gets that one job, never a second.
   */
  @Post()
  @HttpCode(202)
  async create(
    @Body(new ValibotBodyPipe(CreateJobBody)) body: v.InferOutput<typeof CreateJobBody>,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<{ id: string }> {
    if (idempotencyKey !== undefined && !ID_PATTERN.test(idempotencyKey)) {
      throw new BadRequestException('Idempotency-Key must be a UUID, e.g. from crypto.randomUUID()');
    }
    return { id: await this.jobs.enqueue(body.payload, idempotencyKey) };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<JobView> {
    if (!ID_PATTERN.test(id)) throw new BadRequestException('job id must be a UUID');
    const job = await this.jobs.find(id);
    if (!job) throw new NotFoundException(`no job "${id}"`);
    return job;
  }
}
