import { Body, Controller, HttpCode, Post, Sse, type MessageEvent } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { map, type Observable } from 'rxjs';
import { requireString } from '../common/body-validation.js';
import { NotificationsService } from './notifications.service.js';

@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Post()
  @HttpCode(202)
  async publish(@Body() body: unknown): Promise<{ id: string }> {
    const message = requireString(body, 'message', { maxLength: 10_000 });
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
