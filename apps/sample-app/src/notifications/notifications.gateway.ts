import { Logger } from '@nestjs/common';
import { WebSocketGateway, WebSocketServer, type OnGatewayConnection } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import type { Notification } from './notifications.service.js';

/** The Socket.IO event that carries a notification. */
export const NOTIFICATION_EVENT = 'notification';

/**
 * Socket.IO namespace `/notifications` (`io('http://host:3000/notifications')`): every client gets
 * a `notification` event for each notification published on any instance of the app. Fan-out
 * across instances goes through the Redis adapter (RedisIoAdapter, set in main.ts).
 */
@WebSocketGateway({ namespace: 'notifications' })
export class NotificationsGateway implements OnGatewayConnection {
  private readonly logger = new Logger(NotificationsGateway.name);

  @WebSocketServer()
  private readonly namespace!: Namespace;

  handleConnection(client: Socket): void {
    this.logger.debug({ message: 'socket.io client connected', socketId: client.id });
  }

  /**
   * To the clients of every instance: local ones directly, the others through one Redis
   * `PUBLISH`. Fire-and-forget, like pub/sub itself: a broadcast sent while no master answers is
   * lost for the other instances (counted by the adapter's clients, see RedisIoAdapter).
   */
  broadcast(notification: Notification): void {
    this.namespace.emit(NOTIFICATION_EVENT, notification);
  }
}
