import { Body, Controller, HttpCode, Post, Sse, type MessageEvent } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { map, type Observable } from 'rxjs';
import * as v from 'valibot';
import { bodyObject, nonEmptyString, ValibotBodyPipe } from '../common/valibot-body.pipe.js';
import { NotificationsService } from './notifications.service.js';

const PublishBody = bodyObject({ message: nonEmptyString('message', 10_000) });

@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Post()
  @HttpCode(202)
  async publish(
    @Body(new ValibotBodyPipe(PublishBody)) { message }: v.InferOutput<typeof PublishBody>,
  ): Promise<{ id: string }> {
    const id = randomUUID();
    await this.notifications.publish({ id, message, publishedAt: new Date().toISOString() });
    return { id };
  }

  /** `text/event-stream`: every notification published after the client connected. */
  @Sse('stream')
  stream(): Observable<MessageEvent> {
    return this.notifications.stream().pipe(map((n) => ({ id: n.id, type: 'notification', data: n })));
  }
}
